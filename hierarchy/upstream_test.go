package hierarchy

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// The sync policy: lines are asked for in batches, results ride along, and
// results alone go up only when there are enough, they are old, or the child
// has nothing else to wait for.
func TestUpstreamDecide(t *testing.T) {
	now := time.Now()
	results := func(n int) []broker.JobResult { return make([]broker.JobResult, n) }
	cases := []struct {
		name        string
		u           upstream
		want, refil int
		drained     bool
		send        bool
		credits     int
	}{
		{name: "room for a batch: ask", want: 8, refil: 8, send: true, credits: 8},
		{name: "room for less than a batch: wait", want: 7, refil: 8},
		{name: "refill 0 still asks for one", want: 1, refil: 0, send: true, credits: 1},
		{name: "an ask is out: no second ask", u: upstream{asking: true}, want: 32, refil: 8},
		{name: "the stream ended: never ask", u: upstream{eof: true}, want: 32, refil: 8},
		{name: "ask carries waiting results", u: upstream{results: results(3), oldest: now}, want: 8, refil: 8, send: true, credits: 8},
		{name: "few fresh results wait for the next ask", u: upstream{asking: true, results: results(3), oldest: now}, want: 0, refil: 8},
		{name: "a batch of fresh results waits for the next ask", u: upstream{asking: true, results: results(8), oldest: now}, refil: 8},
		{name: "three batches of results go alone", u: upstream{asking: true, results: results(24), oldest: now}, refil: 8, send: true},
		{name: "old results go alone", u: upstream{asking: true, results: results(1), oldest: now.Add(-resultDelay)}, refil: 8, send: true},
		{name: "started lines are results too", u: upstream{asking: true, started: []uint64{1}, oldest: now.Add(-time.Second)}, refil: 8, send: true},
		{name: "drained: results go at once", u: upstream{eof: true, results: results(1), oldest: now}, refil: 8, drained: true, send: true},
		{name: "one results-only sync at a time", u: upstream{pushing: true, results: results(100), oldest: now.Add(-time.Second)}, refil: 8},
		{name: "nothing waits: nothing to send", u: upstream{asking: true}, refil: 8, drained: true},
		{name: "after the last sync: nothing", u: upstream{finished: true, results: results(9)}, want: 9, refil: 1, drained: true},
	}
	for _, c := range cases {
		send, credits := c.u.decide(c.want, c.refil, c.drained, now)
		if send != c.send || credits != c.credits {
			t.Errorf("%s: decide = %v, %d; want %v, %d", c.name, send, credits, c.send, c.credits)
		}
	}
}

// A sync the parent refused is told apart from a parent that went away.
func TestUpstreamFailed(t *testing.T) {
	var u upstream
	refused := u.failed("leaf top.1", &overlay.RemoteError{Errnum: syscall.EPROTO, Text: "sync: needs a child and credits >= 0"})
	if !strings.Contains(refused.Error(), "leaf top.1: the parent refused a sync: sync: needs") || !errors.Is(refused, syscall.EPROTO) {
		t.Errorf("refused: %v", refused)
	}
	gone := u.failed("relay top.0", overlay.ErrClosed)
	if !strings.Contains(gone.Error(), "relay top.0: the parent is gone") || !errors.Is(gone, overlay.ErrClosed) {
		t.Errorf("gone: %v", gone)
	}
}
