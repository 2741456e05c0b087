package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/vmihailenco/msgpack/v5"
)

func testSet(cores int) resources.Set {
	return resources.Set{Ranks: []resources.Rank{{Rank: 0, Host: "testhost", Cores: resources.RangeIDSet(0, cores-1)}}}
}

// newTestBroker starts a broker with `cores` cores and a client connected in
// process; both are shut down when the test ends.
func newTestBroker(t *testing.T, cores int) (*Broker, *overlay.Client) {
	t.Helper()
	b, err := New(Config{Resources: testSet(cores), KillGrace: 500 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	c := overlay.NewClient(b.Connect())
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	})
	return b, c
}

func spec(cookie uint64, argv ...string) Jobspec {
	return Jobspec{Cookie: cookie, Req: resources.Request{Tasks: 1}, Argv: argv}
}

func submit(t *testing.T, c *overlay.Client, watcher uint64, jobs ...Jobspec) SubmitReply {
	t.Helper()
	var reply SubmitReply
	err := c.RPC(context.Background(), TopicSubmit, &SubmitRequest{Env: []string{"PATH=/usr/bin:/bin"}, Jobs: jobs, Watcher: watcher}, &reply)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// collect reads the results stream until n results arrived.
func collect(t *testing.T, s *overlay.Stream, n int) map[uint64]JobResult {
	t.Helper()
	got := map[uint64]JobResult{}
	done := make(chan error, 1)
	go func() {
		for len(got) < n {
			m, err := s.Recv()
			if err != nil {
				done <- err
				return
			}
			var b ResultBatch
			if err := m.Decode(&b); err != nil {
				done <- err
				return
			}
			for _, r := range b.Results {
				if _, dup := got[r.Cookie]; dup {
					done <- errors.New("two results for one job")
					return
				}
				got[r.Cookie] = r
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("only %d of %d results arrived", len(got), n)
	}
	return got
}

func TestSubmitBatchAndResults(t *testing.T) {
	_, c := newTestBroker(t, 2)
	s, w, err := WatchResults(c)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []Jobspec
	for i := 1; i <= 50; i++ {
		jobs = append(jobs, spec(uint64(i), "sh", "-c", "echo out; echo err >&2; exit $(( $0 % 3 ))", strconv.Itoa(i)))
	}
	big := spec(51, "true")
	big.Req.Tasks = 100
	jobs = append(jobs, big)
	reply := submit(t, c, w, jobs...)
	for i := 0; i < 50; i++ {
		if reply.IDs[i] == 0 {
			t.Fatalf("job %d refused: %s", i+1, reply.Errs[i])
		}
	}
	if reply.IDs[50] != 0 || !strings.Contains(reply.Errs[50], "-n 100 asks for 100 cores; the instance has 2") {
		t.Errorf("oversized job: id %d, err %q", reply.IDs[50], reply.Errs[50])
	}
	got := collect(t, s, 50)
	for i := 1; i <= 50; i++ {
		r := got[uint64(i)]
		if r.Status != i%3 || string(r.Stdout) != "out\n" || string(r.Stderr) != "err\n" || r.Host != "testhost" {
			t.Errorf("job %d: status %d stdout %q stderr %q host %q", i, r.Status, r.Stdout, r.Stderr, r.Host)
		}
	}
}

func TestCancelPendingAndRunning(t *testing.T) {
	_, c := newTestBroker(t, 1)
	s, w, _ := WatchResults(c)
	reply := submit(t, c, w, spec(1, "sleep", "30"), spec(2, "sleep", "30"))
	waitState(t, c, reply.IDs[0], "running")
	var list ListReply
	c.RPC(context.Background(), TopicList, &ListRequest{}, &list)
	if len(list.Jobs) != 2 || list.Jobs[1].State != "pending" || list.Jobs[1].Why == "" {
		t.Fatalf("job list = %+v; want job 2 pending with a reason", list.Jobs)
	}
	var cr CancelReply
	if err := c.RPC(context.Background(), TopicCancel, &CancelRequest{IDs: reply.IDs}, &cr); err != nil || cr.Canceled != 2 {
		t.Fatalf("cancel: %v %+v", err, cr)
	}
	got := collect(t, s, 2)
	for _, r := range got {
		if !r.Canceled || r.Signal != int(syscall.SIGTERM) {
			t.Errorf("job %d: %+v; want canceled by SIGTERM", r.Cookie, r)
		}
	}
	c.RPC(context.Background(), TopicList, &ListRequest{All: true}, &list)
	if len(list.Jobs) != 2 || list.Jobs[0].State != "canceled" {
		t.Errorf("history = %+v", list.Jobs)
	}
	if err := c.RPC(context.Background(), TopicCancel, &CancelRequest{IDs: []uint64{99}}, &cr); err != nil || len(cr.Errs) != 1 {
		t.Errorf("cancel of an unknown job: %v %+v", err, cr)
	}
}

func waitState(t *testing.T, c *overlay.Client, id uint64, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var list ListReply
		if err := c.RPC(context.Background(), TopicList, &ListRequest{}, &list); err != nil {
			t.Fatal(err)
		}
		for _, j := range list.Jobs {
			if j.ID == id && j.State == state {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("job %d never reached %s", id, state)
}

// attach returns the result of an unwatched job, waiting for it to end.
func TestAttach(t *testing.T) {
	_, c := newTestBroker(t, 2)
	reply := submit(t, c, 0, spec(0, "sh", "-c", "sleep 0.2; echo late"))
	var r JobResult
	if err := c.RPC(context.Background(), TopicAttach, &AttachRequest{ID: reply.IDs[0]}, &r); err != nil {
		t.Fatal(err)
	}
	if string(r.Stdout) != "late\n" || r.Status != 0 {
		t.Errorf("attach: %+v", r)
	}
	// Again, now from the history.
	if err := c.RPC(context.Background(), TopicAttach, &AttachRequest{ID: reply.IDs[0]}, &r); err != nil || string(r.Stdout) != "late\n" {
		t.Errorf("attach from history: %v %+v", err, r)
	}
	err := c.RPC(context.Background(), TopicAttach, &AttachRequest{ID: 12345}, &r)
	var re *overlay.RemoteError
	if !errors.As(err, &re) || re.Errnum != syscall.ENOENT {
		t.Errorf("attach of an unknown job: %v", err)
	}
}

// A watcher that goes away takes its jobs with it: nobody would record them.
func TestWatcherGoneCancelsItsJobs(t *testing.T) {
	b, c := newTestBroker(t, 1)
	other := overlay.NewClient(b.Connect())
	defer other.Close()
	_, ow, _ := WatchResults(other)
	reply := submit(t, other, ow, spec(1, "sleep", "30"), spec(2, "sleep", "30"))
	waitState(t, c, reply.IDs[0], "running")
	other.Close()
	var r JobResult
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.RPC(ctx, TopicAttach, &AttachRequest{ID: reply.IDs[0]}, &r); err != nil || !r.Canceled {
		t.Fatalf("running job of a vanished watcher: %v %+v", err, r)
	}
	if err := c.RPC(ctx, TopicAttach, &AttachRequest{ID: reply.IDs[1]}, &r); err != nil || !r.Canceled {
		t.Fatalf("pending job of a vanished watcher: %v %+v", err, r)
	}
}

// Shutdown kills what runs, reports it, and ends the stream.
func TestShutdownKillsRunning(t *testing.T) {
	b, err := New(Config{Resources: testSet(2), KillGrace: 200 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	c := overlay.NewClient(b.Connect())
	defer c.Close()
	s, w, _ := WatchResults(c)
	reply := submit(t, c, w, spec(1, "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"), spec(2, "sleep", "30"), spec(3, "sleep", "30"))
	waitState(t, c, reply.IDs[1], "running")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	b.Shutdown(ctx)
	if time.Since(start) > 5*time.Second {
		t.Errorf("shutdown took %v", time.Since(start))
	}
	got := collect(t, s, 3)
	for _, r := range got {
		if !r.Canceled {
			t.Errorf("job %d not canceled: %+v", r.Cookie, r)
		}
	}
	if _, err := s.Recv(); err == nil {
		t.Errorf("stream still open after shutdown")
	}
}

func TestUnknownTopic(t *testing.T) {
	_, c := newTestBroker(t, 1)
	err := c.RPC(context.Background(), "no.such.service", nil, nil)
	var re *overlay.RemoteError
	if !errors.As(err, &re) || re.Errnum != syscall.ENOSYS {
		t.Errorf("unknown topic: %v", err)
	}
}

func TestMergeEnv(t *testing.T) {
	base := []string{"A=1", "B=2", "PATH=/bin"}
	got := mergeEnv(base, []string{"B=3", "C=4"})
	want := "A=1 PATH=/bin B=3 C=4"
	if strings.Join(got, " ") != want {
		t.Errorf("mergeEnv = %v, want %s", got, want)
	}
	if g := mergeEnv(base, nil); &g[0] != &base[0] {
		t.Error("mergeEnv copied the base with nothing to add")
	}
	// Removals (--env-remove, --env=-PATTERN) apply in order, as Flux's rules.
	for _, c := range []struct{ extra, want string }{
		{"-B", "A=1 PATH=/bin"},
		{"-* A=9", "A=9"},
		{"A=9 -A", "B=2 PATH=/bin"},
		{"-P* B=7 -Q", "A=1 B=7"},
		{"-[ C=1", "A=1 B=2 PATH=/bin C=1"}, // a bad pattern matches nothing
	} {
		if got := strings.Join(mergeEnv(base, strings.Fields(c.extra)), " "); got != c.want {
			t.Errorf("mergeEnv(%s) = %s, want %s", c.extra, got, c.want)
		}
	}
	if strings.Join(base, " ") != "A=1 B=2 PATH=/bin" {
		t.Errorf("mergeEnv changed its base: %v", base)
	}
}

// A results stream opened with Started hears, by cookie, when each job
// starts, before its result.
func TestWatchStarted(t *testing.T) {
	_, c := newTestBroker(t, 1)
	s, w, err := WatchResultsWith(c, &WatchRequest{Started: true})
	if err != nil {
		t.Fatal(err)
	}
	submit(t, c, w, spec(7, "sleep", "0.2"), spec(8, "true"))
	started := map[uint64]bool{}
	for done := 0; done < 2; {
		m, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var b ResultBatch
		if err := m.Decode(&b); err != nil {
			t.Fatal(err)
		}
		for _, ck := range b.Started {
			started[ck] = true
		}
		for _, r := range b.Results {
			if !started[r.Cookie] {
				t.Errorf("result of %d before its start notice", r.Cookie)
			}
			done++
		}
	}
	if len(started) != 2 {
		t.Errorf("start notices for %v, want 7 and 8", started)
	}
}

// Outcome's fields are inlined: a result encodes as one flat map, as a
// client in any language expects.
func TestResultEncodingIsFlat(t *testing.T) {
	b, err := msgpack.Marshal(&JobResult{ID: 3, Cookie: 9, Host: "h", Outcome: Outcome{Status: 7, Err: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, nested := m["Outcome"]; nested || fmt.Sprint(m["status"]) != "7" || m["err"] != "x" || fmt.Sprint(m["id"]) != "3" {
		t.Errorf("encoded result = %v; want flat keys id, status, err", m)
	}
	var back JobResult
	if err := msgpack.Unmarshal(b, &back); err != nil || back.Status != 7 || back.Cookie != 9 {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}
