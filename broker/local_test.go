package broker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The in-process job service runs jobs like job.submit does: ids or
// refusals per line, results (with output) and started cookies on its
// channel, cancel, and the end of the broker reported on Lost.
func TestLocalJobs(t *testing.T) {
	b, _ := newTestBroker(t, 2)
	if err := b.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := b.LocalJobs(true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	replies := make(chan SubmitReply, 1)
	jobs := []Jobspec{spec(1, "echo", "one"), {Cookie: 2}, spec(3, "sleep", "30")}
	if err := l.Submit(jobs, []string{"PATH=/usr/bin:/bin"}, func(r SubmitReply, err error) {
		if err != nil {
			t.Error(err)
		}
		replies <- r
	}); err != nil {
		t.Fatal(err)
	}
	r := <-replies
	if r.IDs[0] == 0 || r.IDs[1] != 0 || r.Errs[1] != "no command" || r.IDs[2] == 0 {
		t.Fatalf("reply %+v: want lines 1 and 3 taken, 2 refused (no command)", r)
	}
	l.Cancel([]uint64{r.IDs[2]})
	got := map[uint64]JobResult{}
	started := map[uint64]bool{}
	deadline := time.After(10 * time.Second)
	for len(got) < 2 {
		select {
		case rb := <-l.Results():
			for _, res := range rb.Results {
				got[res.Cookie] = res
			}
			for _, c := range rb.Started {
				started[c] = true
			}
		case <-deadline:
			t.Fatalf("results so far %+v", got)
		}
	}
	if string(got[1].Stdout) != "one\n" || got[1].Status != 0 {
		t.Errorf("line 1: %+v", got[1])
	}
	if !got[3].Canceled {
		t.Errorf("line 3 after Cancel: %+v", got[3])
	}
	if !started[1] {
		t.Errorf("started cookies %v: want 1", started)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.Shutdown(ctx)
	select {
	case err := <-l.Lost():
		if !errors.Is(err, ErrShutdown) {
			t.Errorf("Lost after shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("no Lost after the broker stopped")
	}
	if err := l.Submit(jobs, nil, func(SubmitReply, error) {}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Submit after the end: %v", err)
	}
}

// Closing the service cancels what it still has queued or running.
func TestLocalJobsCloseCancels(t *testing.T) {
	b, c := newTestBroker(t, 1)
	if err := b.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := b.LocalJobs(false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	l.Submit([]Jobspec{spec(1, "sleep", "30"), spec(2, "sleep", "30")}, []string{"PATH=/usr/bin:/bin"},
		func(SubmitReply, error) { close(done) })
	<-done
	l.Close()
	if err := <-l.Lost(); !errors.Is(err, ErrClosed) {
		t.Errorf("Lost after Close: %v", err)
	}
	refused := make(chan error, 1)
	l.Submit([]Jobspec{spec(3, "true")}, nil, func(_ SubmitReply, err error) { refused <- err })
	if err := <-refused; !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close: %v, want ErrClosed", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var list ListReply
		if err := c.RPC(context.Background(), TopicList, &ListRequest{}, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still listed after Close: %+v", list.Jobs)
		}
	}
}
