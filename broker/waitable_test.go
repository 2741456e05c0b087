package broker

import (
	"context"
	"errors"
	"syscall"
	"testing"
)

// flux job wait: each waitable result is consumed once; then ECHILD.
func TestWaitableConsumedOnce(t *testing.T) {
	_, c := newTestBroker(t, 2)
	ctx := context.Background()
	a, b := spec(1, "true"), spec(2, "sh", "-c", "exit 3")
	a.Flags, b.Flags = "waitable", "waitable"
	reply := submit(t, c, 0, a, b, spec(3, "true"))
	got := map[uint64]int{}
	for i := 0; i < 2; i++ {
		var r JobResult
		if err := c.RPC(ctx, TopicWait, &WaitRequest{}, &r); err != nil {
			t.Fatal(err)
		}
		got[r.ID] = r.Status
	}
	if got[reply.IDs[0]] != 0 || got[reply.IDs[1]] != 3 || len(got) != 2 {
		t.Errorf("waited results %v", got)
	}
	var r JobResult
	err := c.RPC(ctx, TopicWait, &WaitRequest{}, &r)
	if !errors.Is(err, syscall.ECHILD) {
		t.Errorf("a third wait: %v, want ECHILD", err)
	}
	for _, id := range []uint64{reply.IDs[0], reply.IDs[2]} { // consumed; never waitable
		if err := c.RPC(ctx, TopicWait, &WaitRequest{ID: id}, &r); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("wait %d: %v, want EINVAL", id, err)
		}
	}
}
