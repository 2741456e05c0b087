package broker

import (
	"context"
	"sync"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
)

// beginShutdown starts stopping this broker. At rank 0 every job is
// canceled and the instance waits for their results; elsewhere the parts
// running here are killed. Either way the grace is bounded (forceStop).
func (st *state) beginShutdown() {
	if st.stopping {
		return
	}
	st.stopping = true
	st.deadline = time.After(st.b.cfg.KillGrace + 3*time.Second)
	if st.jm != nil {
		st.jm.cancelAll()
		return
	}
	st.killLocal()
}

// killLocal kills every part running here: SIGTERM, SIGKILL after the grace.
func (st *state) killLocal() {
	if st.b.launcher.Running() == 0 {
		return
	}
	l, grace := st.b.launcher, st.b.cfg.KillGrace
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), grace+time.Second)
		defer cancel()
		l.Shutdown(ctx)
	}()
}

// forceStop ends what the grace did not: results from ranks that never
// answered are made up as killed.
func (st *state) forceStop() {
	if st.jm != nil {
		st.jm.forceEnd()
	}
	st.forced = true
	st.killLocal()
}

func (st *state) idle() bool {
	if st.forced {
		return true // what still runs here was killed by killLocal
	}
	if st.jm != nil && len(st.jm.jobs) > 0 {
		return false
	}
	return len(st.exec.running) == 0
}

// finish is the loop's last act: children are told to stop, clients get
// what is queued for them, modules are stopped and links closed.
func (st *state) finish() {
	for _, p := range st.children {
		m, _ := overlay.NewRequest(topicShutdown, nil)
		m.Src, m.Dst, m.Flags = int32(st.rank), int32(p.rank), overlay.FlagNoResponse
		p.send(m, false)
	}
	st.mods.stopAll()
	st.b.clientsMu.Lock()
	for c := range st.b.clients {
		c.flush()
	}
	st.b.clientsMu.Unlock()
	if st.b.listener != nil {
		st.b.listener.Close()
	}
	// Close every link now, each flushing what is queued on it (the
	// shutdown messages above) first: the process may exit as soon as the
	// loop returns, and a child must see broker.shutdown before the link's
	// end. Closing is bounded (a peer that stopped reading gets 2 s).
	var links []*overlay.Link
	for _, p := range st.children {
		links = append(links, p.link)
	}
	if st.parent != nil {
		links = append(links, st.parent.link)
	}
	var wg sync.WaitGroup
	for _, l := range links {
		wg.Add(1)
		go func() { defer wg.Done(); l.Close() }()
	}
	wg.Wait()
}

// fail stops the broker on its own, keeping the first reason.
func (st *state) fail(err error) {
	st.b.cfg.Logf("broker: rank %d: %v", st.rank, err)
	if st.b.failed == nil {
		st.b.failed = err
	}
	st.beginShutdown()
}

// shutdownRequest is the parent telling this broker to stop.
func (st *state) shutdownRequest(from endpoint, m *overlay.Msg) {
	if p, ok := from.(*peer); ok && p == st.parent {
		st.beginShutdown()
	}
}

// endOfPass sends what one loop pass produced: parts to start, results to
// remote watchers, job state events, finished parts going up.
func (st *state) endOfPass() {
	if st.jm != nil {
		st.jm.flush()
	}
	st.exec.flush()
}

// stopRequest stops the whole instance on behalf of the client that started
// it (flux-capacitor inside Slurm): rank 0 cancels the jobs and tells its
// children to stop, so every broker exits cleanly and the launcher that
// started them (srun) ends without killing anything.
func (st *state) stopRequest(from endpoint, m *overlay.Msg) {
	st.respond(from, m, nil)
	b := st.b
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.KillGrace+10*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	}()
}
