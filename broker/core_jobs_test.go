package broker

import (
	"strings"
	"testing"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/resources"
)

// rank0 is rank 0 of an instance of size (fanout 2) after every rank said
// hello, with a local results watcher (as the capacitor has).
func rank0(t *testing.T, size int) (*core, *watcher) {
	t.Helper()
	c := newCore(t, 0, size, 2)
	for r := 1; r < size; r++ {
		h := &HelloRequest{Rank: r, Size: size, Resources: resources.Rank{Host: "n", Cores: resources.RangeIDSet(0, 1)}}
		via := c.peers[r]
		if via == nil {
			via = c.peers[1+(r-1)%2] // a grandchild's hello comes through its parent
		}
		got := c.from(via, newMsg(topicHello, int32(r), 0, uint32(r), h))
		if r == size-1 {
			if got[len(got)-1] != "ready" {
				t.Fatalf("the last hello did not make the instance ready: %v", got)
			}
		}
	}
	w := &watcher{id: 99, local: func(*ResultBatch) {}}
	c.st.jm.watchers[w.id] = w
	return c, w
}

// submit queues jobs of one task each, by cookie, for w.
func submit0(t *testing.T, c *core, w *watcher, argv ...string) []uint64 {
	t.Helper()
	jobs := make([]Jobspec, len(argv))
	for i, a := range argv {
		jobs[i] = Jobspec{Cookie: uint64(i + 1), Req: resources.Request{Tasks: 1}, Argv: strings.Fields(a)}
	}
	reply, err := c.st.jm.submitJobs(&SubmitRequest{Jobs: jobs}, w)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range reply.Errs {
		if e != "" {
			t.Fatalf("job %d refused: %s", i, e)
		}
	}
	return reply.IDs
}

// ack answers rank's exec.start in fx as the rank would.
func ack(t *testing.T, c *core, fx []effect, rank int) []string {
	t.Helper()
	start := sent(t, fx, rank, topicExecStart)
	var es ExecStart
	if err := start.Decode(&es); err != nil {
		t.Fatal(err)
	}
	resp, err := start.Respond(&ExecAck{Accepted: len(es.Parts)})
	if err != nil {
		t.Fatal(err)
	}
	resp.Src = int32(rank)
	return c.from(c.peers[rank], resp)
}

// A rank is lost at rank 0 (of 3): its running jobs end as "rank N lost",
// the scheduler stops placing there, everyone hears broker.lost, and the
// job waiting for cores runs elsewhere. Then the rank rejoins: its cores
// are back, and new jobs run there.
func TestRankLostAndRejoins(t *testing.T) {
	c, w := rank0(t, 3)
	// Six cores, seven jobs: two start here, two on each of ranks 1 and 2.
	submit0(t, c, w, "a", "b", "c", "d", "e", "f", "g")
	fx := c.raw()
	wantFx(t, "first pass", c.show(fx), []string{
		"launch a tasks=[0] pmi=false",
		"launch b tasks=[0] pmi=false",
		"send 1 request exec.start tag=1 src=0 dst=1",
		"send 2 request exec.start tag=2 src=0 dst=2",
		"send 1 event job.state tag=1 src=0 dst=-1",
		"send 2 event job.state tag=1 src=0 dst=-1",
	})
	for _, r := range []int{1, 2} {
		ack(t, c, fx, r)
	}
	c.effects()

	c.st.now = coreT0.Add(10e9)
	c.st.handle(request{from: c.peers[2], gone: true})
	fx = c.raw()
	wantFx(t, "rank 2 lost", c.show(fx), []string{
		"send 1 event broker.lost tag=2 src=0 dst=-1",
		"local results=[5:rank 2 lost 6:rank 2 lost] started=0",
		"send 1 event job.state tag=3 src=0 dst=-1",
	})
	for _, e := range fx {
		if e.kind != fxLocal {
			continue
		}
		for _, r := range e.batch.Results {
			if !r.End.Equal(c.st.now) { // the event's time, not a clock's
				t.Errorf("job %d ended at %v, want the event's time %v", r.Cookie, r.End, c.st.now)
			}
		}
	}
	if got := c.st.jm.downList(); len(got) != 1 || got[0] != 2 {
		t.Errorf("down: %v, want [2]", got)
	}
	if rs := c.st.ranks[2]; rs.state != rankLost || !rs.since.Equal(c.st.now) {
		t.Errorf("rank 2's state: %+v, want lost since the event", rs)
	}
	// A part of rank 0 ends: the waiting job g starts here, not on rank 2.
	j := c.jobOn(0)
	c.st.launched(doneResult(j))
	wantFx(t, "g runs here", c.pass(), []string{
		"launch g tasks=[0] pmi=false",
		"local results=[" + cookieOf(c, j) + ":] started=0",
		"send 1 event job.state tag=4 src=0 dst=-1",
	})

	// Rank 2 rejoins through a new link: its hello is taken, broker.online
	// published, and its cores are free again for new jobs.
	p2 := &peer{rank: 2}
	c.st.link(linkEvent{p: p2})
	wantFx(t, "new link", c.effects(), []string{"serve 2"})
	h := &HelloRequest{Rank: 2, Size: 3, Resources: resources.Rank{Host: "n", Cores: resources.RangeIDSet(0, 1)}}
	wantFx(t, "rejoin", c.from(p2, newMsg(topicHello, 2, 0, 1, h)), []string{
		"send 1 event broker.online tag=5 src=0 dst=-1",
		"send 2 event broker.online tag=5 src=0 dst=-1",
		"send 2 response broker.hello tag=1 src=0 dst=2",
	})
	if rs := c.st.ranks[2]; rs.state != rankOnline || rs.why != "rejoined" {
		t.Errorf("rank 2's state after its hello: %+v", rs)
	}
	submit0(t, c, w, "h", "i")
	fx = c.raw()
	start := sent(t, fx, 2, topicExecStart)
	var es ExecStart
	if err := start.Decode(&es); err != nil || len(es.Parts) != 2 {
		t.Fatalf("new jobs on the rejoined rank: %v parts (%v)", len(es.Parts), err)
	}
}

// jobOn is a running job with a part on rank.
func (c *core) jobOn(rank int) *job {
	for _, j := range c.st.jm.jobs {
		if j.state == stateRunning && j.parts[rank] != nil {
			return j
		}
	}
	c.t.Fatalf("no job runs on rank %d", rank)
	return nil
}

func cookieOf(c *core, j *job) string { return string(rune('0' + j.spec.Cookie)) }

// doneResult is what the launcher reports for a part that exited 0.
func doneResult(j *job) *launcher.Result {
	return &launcher.Result{JobID: j.id, Start: coreT0, End: coreT0.Add(1e9)}
}

// Hellos rank 0 refuses, with EPERM and one log line each; the instance
// goes on.
func TestHelloRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    HelloRequest
		log  string
	}{
		{"a rank that is online says hello again", HelloRequest{Rank: 1, Size: 3}, "rank 1 is online already"},
		{"a broker that counts another size", HelloRequest{Rank: 2, Size: 5}, "it counts 5 ranks, this instance has 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := rank0(t, 3)
			c.logs = nil
			from := c.peers[tc.h.Rank]
			wantFx(t, "hello", c.from(from, newMsg(topicHello, int32(tc.h.Rank), 0, 4, &tc.h)),
				[]string{"send " + itoa1(tc.h.Rank) + " response broker.hello tag=4 src=0 dst=" + itoa1(tc.h.Rank) + " errnum=1"})
			if len(c.logs) != 1 || !strings.Contains(c.logs[0], tc.log) {
				t.Errorf("log: %q, want one line with %q", c.logs, tc.log)
			}
			if c.st.stopping || len(c.st.jm.downList()) != 0 {
				t.Errorf("a refused hello changed the instance: stopping=%v down=%v", c.st.stopping, c.st.jm.downList())
			}
		})
	}
}

func itoa1(n int) string { return string(rune('0' + n)) }

// A drained rank that is lost and rejoins stays out of service.
func TestCoreDrainedRankRejoinsDrained(t *testing.T) {
	c, w := rank0(t, 3)
	c.from(c.client("admin"), newMsg(TopicDrain, -1, 0, 1, &DrainRequest{Ranks: []int{2}, Reason: "bad disk"}))
	c.st.handle(request{from: c.peers[2], gone: true})
	c.pass()
	p2 := &peer{rank: 2}
	c.st.link(linkEvent{p: p2})
	c.from(p2, newMsg(topicHello, 2, 0, 1, &HelloRequest{Rank: 2, Size: 3, Resources: resources.Rank{Cores: resources.RangeIDSet(0, 1)}}))
	submit0(t, c, w, "a", "b", "c", "d", "e", "f")
	for _, e := range c.raw() {
		if e.kind == fxSend && e.peer.rank == 2 && e.msg.Topic == topicExecStart {
			t.Fatal("a job was placed on the drained rank after it rejoined")
		}
	}
}

// Cancel of a running job: SIGTERM now and a timer for the grace; when the
// timer fires the job is still running, so SIGKILL. Shutdown sets its own
// deadline.
func TestCancelEscalates(t *testing.T) {
	c, w := rank0(t, 1)
	ids := submit0(t, c, w, "sleep 100")
	wantFx(t, "start", c.pass(), []string{"launch sleep 100 tasks=[0] pmi=false"})
	if !c.st.jm.cancelJob(ids[0]) {
		t.Fatal("cancel refused")
	}
	wantFx(t, "cancel", c.effects(), []string{"kill TERM", "timer escalate 5s"})
	c.st.escalate(ids[0])
	wantFx(t, "escalate", c.effects(), []string{"kill KILL"})
	c.st.launched(&launcher.Result{JobID: ids[0], Status: 137, Signal: 9, Canceled: true})
	c.st.escalate(ids[0]) // a late timer: the job has ended
	wantFx(t, "ended", c.pass(), []string{"local results=[1:] started=0"})

	submit0(t, c, w, "sleep 100")
	c.pass()
	c.st.beginShutdown()
	wantFx(t, "shutdown", c.effects(), []string{"timer deadline 8s", "kill TERM", "timer escalate 5s"})
	c.st.forceStop()
	wantFx(t, "deadline", c.effects(), []string{"kill all"})
	if !c.st.idle() {
		t.Error("not idle after the deadline")
	}
}

// An inner rank loses its parent: the parts it runs are killed (rank 0
// has ended their jobs), requests that went up fail, its children's links
// close so they rejoin through it, and it dials its parent again. A part
// that ends afterwards sends nothing up. Once linked again it says hello.
func TestParentLostThenRejoin(t *testing.T) {
	c := newCore(t, 1, 7, 2)
	part := ExecPart{Job: 42, Argv: []string{"sleep", "9"}, JobSize: 1, Tasks: []ExecTask{{Rank: 0}}}
	wantFx(t, "exec.start", c.from(c.peers[0], newMsg(topicExecStart, 0, 1, 3, &ExecStart{Parts: []ExecPart{part}})),
		[]string{"launch sleep 9 tasks=[0] pmi=false", "send 0 response exec.start tag=3 src=1 dst=0"})
	cl := c.client("c")
	wantFx(t, "up", c.from(cl, newMsg(TopicList, -1, -1, 8, nil)), []string{"send 0 request job.list tag=1 src=1 dst=-1"})
	c.st.cfg.Links = &LinkSetup{}
	parent := c.peers[0]
	c.st.handle(request{from: parent, gone: true})
	wantFx(t, "parent lost", c.pass(), []string{
		"kill KILL",
		"reply c response job.list tag=8 src=1 dst=-1 errnum=113",
		"close link 3",
		"close link 4",
		"dial parent",
	})
	c.st.launched(&launcher.Result{JobID: 42, Status: 137})
	wantFx(t, "orphan ends", c.pass(), []string{})
	c.st.link(linkEvent{p: &peer{rank: 0}, parent: true})
	wantFx(t, "linked again", c.effects(), []string{"serve 0", "send 0 request broker.hello tag=2 src=1 dst=0"})
	if c.st.stopping {
		t.Error("losing its parent stopped the broker")
	}
}
