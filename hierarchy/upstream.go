package hierarchy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// resultDelay bounds how long a result waits at a child for a sync to
// carry it up: long tasks that end one by one still reach the job log and
// the progress bar at the top within it.
const resultDelay = 20 * time.Millisecond

// upstream is a child's side of the line service. It decides when a sync is
// worth its round trip, and runs syncs in the background; their replies
// arrive on replies, which the child's loop selects on, as it does on due.
//
// The policy: ask for lines once the child can take at least refill of
// them (so lines come in batches, never one by one), and let that sync
// carry every result waiting. Results alone go up only when the oldest has
// waited resultDelay (an ask is held: the parent has no lines), when three
// batches of them wait, or when the child has nothing else to wait for. An
// ask that is merely on its way does not make them go alone: the next ask
// takes them.
type upstream struct {
	parent   *overlay.Client
	svc      string
	name     string
	replies  chan syncReply
	due      <-chan time.Time // resultDelay after the oldest waiting result
	timer    *time.Timer
	asking   bool // a sync with credits is out
	pushing  bool // a sync with results only is out
	eof      bool
	results  []broker.JobResult // waiting to go up
	started  []uint64
	oldest   time.Time // when the oldest of those arrived
	finished bool      // the last sync (with statistics) went out
	syncs    int
}

type syncReply struct {
	reply SyncReply
	asked bool
	err   error
}

func newUpstream(parent *overlay.Client, svc, name string) *upstream {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &upstream{parent: parent, svc: svc, name: name, replies: make(chan syncReply, 2), timer: t, due: t.C}
}

// add queues results and started lines for the next sync.
func (u *upstream) add(results []broker.JobResult, started []uint64) {
	if len(results) == 0 && len(started) == 0 {
		return
	}
	if !u.waiting() {
		u.oldest = time.Now()
		u.timer.Reset(resultDelay)
	}
	u.results = append(u.results, results...)
	u.started = append(u.started, started...)
}

func (u *upstream) waiting() bool { return len(u.results) > 0 || len(u.started) > 0 }

// busy reports a sync out.
func (u *upstream) busy() bool { return u.asking || u.pushing }

// flush sends a sync if one is worth it: want is how many lines the child
// could take now, refill the fewest worth asking for, and drained says the
// child waits for nothing but its parent (its results must not wait).
func (u *upstream) flush(want, refill int, drained bool) {
	if send, credits := u.decide(want, refill, drained, time.Now()); send {
		u.send(credits, nil)
	}
}

// decide is flush's policy, apart so that it can be tested alone: whether
// to send a sync now, and with how many credits (0: results only).
func (u *upstream) decide(want, refill int, drained bool, now time.Time) (bool, int) {
	refill = max(1, refill)
	switch {
	case u.finished:
		return false, 0
	case !u.asking && !u.eof && want >= refill:
		return true, want
	case u.waiting() && !u.pushing &&
		(drained || len(u.results) >= 3*refill || now.Sub(u.oldest) >= resultDelay):
		return true, 0
	}
	return false, 0
}

// finish sends the last sync: what still waits, and the statistics.
func (u *upstream) finish(stats []Stats) {
	u.send(0, stats)
	u.finished = true
}

func (u *upstream) send(credits int, stats []Stats) {
	req := &SyncRequest{Child: u.name, Credits: credits, Results: u.results, Started: u.started, Stats: stats}
	u.results, u.started = nil, nil
	u.timer.Stop()
	asked := credits > 0
	if asked {
		u.asking = true
	} else {
		u.pushing = true
	}
	u.syncs++
	go func() {
		var r SyncReply
		err := u.parent.RPC(context.Background(), u.svc+opSync, req, &r)
		u.replies <- syncReply{reply: r, asked: asked, err: err}
	}()
}

// failed says why a sync failed: the parent refused it (an error reply),
// or the parent is gone (the connection broke).
func (u *upstream) failed(who string, err error) error {
	var re *overlay.RemoteError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: the parent refused a sync: %w", who, err)
	}
	return fmt.Errorf("%s: the parent is gone: %w", who, err)
}

// got takes a reply: the lines it brings, and whether the stream ended.
func (u *upstream) got(r syncReply) *SyncReply {
	if r.asked {
		u.asking = false
	} else {
		u.pushing = false
	}
	if r.reply.EOF {
		u.eof = true
	}
	return &r.reply
}
