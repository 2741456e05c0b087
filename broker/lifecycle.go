package broker

import (
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
	st.after(st.cfg.KillGrace+3*time.Second, timerDeadline, 0)
	if st.jm != nil {
		st.jm.cancelAll()
		return
	}
	st.killLocal()
}

// killLocal kills every part running here: SIGTERM, SIGKILL after the grace.
func (st *state) killLocal() {
	if len(st.exec.running) > 0 {
		st.emit(effect{kind: fxKillAll})
	}
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

// finish is the loop's last act: children are told to stop and modules
// are stopped. The loop then flushes its clients and closes every link,
// each flushing what is queued on it (the shutdown messages) first: the
// process may exit as soon as the loop returns, and a child must see
// broker.shutdown before the link's end.
func (st *state) finish() {
	for _, p := range st.childPeers() {
		m, _ := overlay.NewRequest(topicShutdown, nil)
		m.Src, m.Dst, m.Flags = int32(st.rank), int32(p.rank), overlay.FlagNoResponse
		st.send(p, m, false)
	}
	st.mods.stopAll()
}

// links are the peers whose links are up, for the loop to close at the end.
func (st *state) links() []*peer {
	var out []*peer
	for _, p := range st.childPeers() {
		out = append(out, p)
	}
	if st.parent != nil {
		out = append(out, st.parent)
	}
	return out
}

// fail stops the broker on its own, keeping the first reason.
func (st *state) fail(err error) {
	st.cfg.Logf("broker: rank %d: %v", st.rank, err)
	if st.failed == nil {
		st.failed = err
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
	st.emit(effect{kind: fxStopInstance})
}
