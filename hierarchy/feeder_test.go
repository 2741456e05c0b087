package hierarchy

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// feederRig runs a feeder whose replies arrive on peer, as a child's would.
type feederRig struct {
	t      *testing.T
	f      *feeder
	peer   overlay.Conn
	events chan event
}

func newFeederRig(t *testing.T) *feederRig {
	a, b := overlay.Pipe(64)
	cl := overlay.NewClient(a)
	events := make(chan event, 64)
	f := newFeeder("svc", cl, events)
	stop := make(chan struct{})
	go f.run(stop)
	t.Cleanup(func() { close(stop); cl.Close(); b.Close() })
	return &feederRig{t: t, f: f, peer: b, events: events}
}

// do runs fn on the feeder's goroutine and waits for it.
func (r *feederRig) do(fn func()) {
	done := make(chan struct{})
	r.f.in <- func() { fn(); close(done) }
	<-done
}

func (r *feederRig) sync(tag uint32, req SyncRequest) {
	m, err := overlay.NewRequest("svc"+opSync, &req)
	if err != nil {
		r.t.Fatal(err)
	}
	m.Tag = tag
	r.f.handle(m)
	r.do(func() {}) // handled
}

func (r *feederRig) reply(tag uint32) SyncReply {
	r.t.Helper()
	got := make(chan *overlay.Msg, 1)
	go func() {
		m, err := r.peer.Recv()
		if err == nil {
			got <- m
		}
	}()
	select {
	case m := <-got:
		if m.Tag != tag {
			r.t.Fatalf("reply to tag %d, want %d", m.Tag, tag)
		}
		if m.Errnum != 0 {
			r.t.Fatalf("error reply: %s", m.Errstr)
		}
		var rep SyncReply
		if len(m.Payload) > 0 {
			if err := m.Decode(&rep); err != nil {
				r.t.Fatal(err)
			}
		}
		return rep
	case <-time.After(5 * time.Second):
		r.t.Fatalf("no reply to tag %d", tag)
	}
	return SyncReply{}
}

func lines(from, n int) []broker.Jobspec {
	out := make([]broker.Jobspec, n)
	for i := range out {
		out[i] = broker.Jobspec{Cookie: uint64(from + i), Argv: []string{"true"}}
	}
	return out
}

func cookies(jobs []broker.Jobspec) []uint64 {
	var out []uint64
	for _, j := range jobs {
		out = append(out, j.Cookie)
	}
	return out
}

// An ask waits for lines, gets no more than its credits, and the
// environment comes with a child's first lines only.
func TestFeederAskWaitsAndBatches(t *testing.T) {
	r := newFeederRig(t)
	r.do(func() { r.f.child("a") })
	r.sync(1, SyncRequest{Child: "a", Credits: 3})
	r.do(func() { r.f.add(lines(1, 5), []string{"X=1"}) })
	rep := r.reply(1)
	if got := cookies(rep.Jobs); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Errorf("first reply lines %v, want 1..3", got)
	}
	if len(rep.Env) != 1 || rep.Env[0] != "X=1" {
		t.Errorf("first reply env %v, want [X=1]", rep.Env)
	}
	r.sync(2, SyncRequest{Child: "a", Credits: 10})
	rep = r.reply(2)
	if got := cookies(rep.Jobs); len(got) != 2 || got[0] != 4 {
		t.Errorf("second reply lines %v, want 4, 5", got)
	}
	if rep.Env != nil || rep.EOF {
		t.Errorf("second reply env %v eof %v, want neither", rep.Env, rep.EOF)
	}
	// Nothing left: the next ask is held until the end of the stream.
	r.sync(3, SyncRequest{Child: "a", Credits: 10})
	r.do(r.f.end)
	if rep := r.reply(3); !rep.EOF || len(rep.Jobs) != 0 {
		t.Errorf("after the end: %+v, want EOF", rep)
	}
}

// Results of lines the child holds go on, once; others are dropped; a sync
// without credits is answered at once.
func TestFeederTakesResults(t *testing.T) {
	r := newFeederRig(t)
	r.do(func() { r.f.child("a"); r.f.add(lines(1, 2), nil) })
	r.sync(1, SyncRequest{Child: "a", Credits: 2})
	r.reply(1)
	r.sync(2, SyncRequest{Child: "a", Started: []uint64{1, 2, 99},
		Results: []broker.JobResult{{Cookie: 1}, {Cookie: 1}, {Cookie: 77}}})
	if rep := r.reply(2); rep.EOF || len(rep.Jobs) != 0 {
		t.Errorf("results-only sync: %+v, want an empty answer", rep)
	}
	ev := <-r.events
	if len(ev.started) != 2 || len(ev.results) != 1 || ev.results[0].Cookie != 1 {
		t.Errorf("event %+v, want started [1 2] and the one result of line 1", ev)
	}
	r.do(func() {
		if n := r.f.held(); n != 1 {
			t.Errorf("lines held after the result: %d, want 1", n)
		}
	})
}

// A lost child's unstarted lines go to a sibling; started ones fail with
// "instance lost" (the top's --retries runs them again, as any failed line).
func TestFeederLostChild(t *testing.T) {
	r := newFeederRig(t)
	r.do(func() { r.f.child("a"); r.f.child("b"); r.f.add(lines(1, 4), nil) })
	r.sync(1, SyncRequest{Child: "a", Credits: 4})
	r.reply(1)
	r.sync(2, SyncRequest{Child: "a", Started: []uint64{1, 2}})
	r.reply(2)
	<-r.events
	r.do(func() { r.f.childGone("a", 137, "killed by signal 9") })
	failed := (<-r.events).results
	r.sync(3, SyncRequest{Child: "b", Credits: 10})
	rep := r.reply(3)
	if len(rep.Jobs) != 2 {
		t.Errorf("sibling got lines %v, want the 2 unstarted", cookies(rep.Jobs))
	}
	if len(failed) != 2 || !strings.Contains(failed[0].Err, "instance lost") {
		t.Errorf("started lines of the lost child: %+v, want 2 failed with instance lost", failed)
	}
	r.do(func() {
		if r.f.requeued != 2 || r.f.lostKids != 1 {
			t.Errorf("requeued %d lost %d, want 2, 1", r.f.requeued, r.f.lostKids)
		}
	})
	// The lost child itself gets the end.
	r.sync(4, SyncRequest{Child: "a", Credits: 1})
	if rep := r.reply(4); !rep.EOF {
		t.Errorf("a sync from the lost child: %+v, want EOF", rep)
	}
}

// A malformed sync is refused, not queued.
func TestFeederRefusesBadSync(t *testing.T) {
	r := newFeederRig(t)
	m, _ := overlay.NewRequest("svc"+opSync, &SyncRequest{Child: "a", Credits: -1})
	m.Tag = 7
	r.f.handle(m)
	got, err := r.peer.Recv()
	if err != nil || got.Errnum == 0 || got.Tag != 7 {
		t.Fatalf("reply %v %v, want an error for tag 7", got, err)
	}
}
