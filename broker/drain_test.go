package broker

import (
	"context"
	"testing"
	"time"
)

// A drained rank starts no job; undrain lets the waiting one start.
func TestDrainUndrain(t *testing.T) {
	_, c := newTestBroker(t, 1)
	ctx := context.Background()
	var dr DrainReply
	if err := c.RPC(ctx, TopicDrain, &DrainRequest{Ranks: []int{0}, Reason: "test"}, &dr); err != nil || len(dr.Errs) > 0 {
		t.Fatalf("drain: %v %v", err, dr.Errs)
	}
	var rr ResourceReply
	c.RPC(ctx, TopicResources, nil, &rr)
	if len(rr.Drained) != 1 || rr.Drained[0].Rank != 0 || rr.Drained[0].Reason != "test" {
		t.Errorf("resource.list drained %+v", rr.Drained)
	}
	reply := submit(t, c, 0, spec(1, "true"))
	time.Sleep(200 * time.Millisecond)
	var list ListReply
	c.RPC(ctx, TopicList, &ListRequest{}, &list)
	if len(list.Jobs) != 1 || list.Jobs[0].State != statePending {
		t.Fatalf("on a drained rank the job should wait: %+v", list.Jobs)
	}
	if err := c.RPC(ctx, TopicDrain, &DrainRequest{Ranks: []int{0}, Undrain: true}, &dr); err != nil || len(dr.Errs) > 0 {
		t.Fatalf("undrain: %v %v", err, dr.Errs)
	}
	var r JobResult
	if err := c.RPC(ctx, TopicAttach, &AttachRequest{ID: reply.IDs[0]}, &r); err != nil || r.Status != 0 {
		t.Errorf("after undrain: %v status %d", err, r.Status)
	}
	c.RPC(ctx, TopicDrain, &DrainRequest{Ranks: []int{0, 5}, Undrain: true}, &dr)
	if len(dr.Errs) != 2 {
		t.Errorf("undrain of an undrained rank and of no rank: errs %q", dr.Errs)
	}
}
