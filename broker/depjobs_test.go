package broker

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// Dependencies in the broker: a chain released in order, a failed target
// ending its afterok waiter with the reason, a cancel of a waiting job; in
// the end no job is counted as waiting and no target is remembered.
func TestDependencyBookkeeping(t *testing.T) {
	b, _ := newTestBroker(t, 2)
	if err := b.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := b.LocalJobs(false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sub := func(jobs ...Jobspec) SubmitReply {
		t.Helper()
		ch := make(chan SubmitReply, 1)
		if err := l.Submit(jobs, []string{"PATH=/usr/bin:/bin"}, func(r SubmitReply, err error) {
			if err != nil {
				t.Error(err)
			}
			ch <- r
		}); err != nil {
			t.Fatal(err)
		}
		return <-ch
	}
	with := func(s Jobspec, deps ...string) Jobspec { s.Dependencies = deps; return s }
	r := sub(spec(1, "sleep", "0.2"), spec(2, "sh", "-c", "sleep 0.2; exit 3"))
	a, f := r.IDs[0], r.IDs[1]
	r = sub(with(spec(3, "echo", "B"), "afterok:"+itoa(a)),
		with(spec(4, "echo", "C"), "afterany:"+itoa(a), "after:"+itoa(a)),
		with(spec(5, "echo", "never"), "afterok:"+itoa(f)),
		with(spec(6, "sleep", "30"), "afterok:"+itoa(a)))
	for i, id := range r.IDs {
		if id == 0 {
			t.Fatalf("job %d refused: %s", i+3, r.Errs[i])
		}
	}
	l.Cancel([]uint64{r.IDs[3]})
	got := map[uint64]JobResult{}
	deadline := time.After(10 * time.Second)
	for len(got) < 6 {
		select {
		case rb := <-l.Results():
			for _, res := range rb.Results {
				got[res.Cookie] = res
			}
		case <-deadline:
			t.Fatalf("results so far: %+v", got)
		}
	}
	if got[3].Status != 0 || string(got[3].Stdout) != "B\n" || got[3].Start.Before(got[1].End) {
		t.Errorf("afterok job: %+v (target ended %v)", got[3], got[1].End)
	}
	if got[5].Err == "" || got[5].Status == 0 || len(got[5].Stdout) != 0 {
		t.Errorf("the job whose target failed: %+v", got[5])
	}
	if !got[6].Canceled {
		t.Errorf("the canceled waiting job: %+v", got[6])
	}
	done := make(chan [2]int, 1)
	b.call(func() { done <- [2]int{b.st.jm.depWaiting, len(b.st.jm.dependents)} })
	if n := <-done; n != [2]int{0, 0} {
		t.Errorf("after everything ended: %d jobs counted as waiting, %d targets remembered", n[0], n[1])
	}
}

func itoa(id uint64) string { return strconv.FormatUint(id, 10) }
