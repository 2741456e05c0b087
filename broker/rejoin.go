package broker

import (
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
)

// Rejoin: a broker whose link to its parent breaks (the parent's side
// declared it lost: heartbeats stopped, a send queue filled up, the network
// was cut) does not exit. It kills the parts it was running (rank 0 has
// already ended those jobs as "rank N lost"), closes its own children's
// links (so that they rejoin through it in turn), and dials its parent again
// for as long as it may dial at boot (LinkSetup.DialTimeout). Once linked it
// says hello again; rank 0 puts its resources back in service. A broker
// killed and started again with the same rank does the same from boot.
//
// Rank 0 refuses, with one log line and an error answer that the joining
// broker prints before it stops: a hello from a rank that is online already
// (a second broker with the same rank), and one from a broker that counts
// another number of ranks. Another instance's key or session never gets
// that far: the link handshake refuses it (overlay.ErrAuthFailed), and the
// dialing broker gives up at once instead of retrying.

// Rank states as the resource listing shows them.
const (
	rankOffline = "offline" // not online yet (boot)
	rankOnline  = "online"
	rankLost    = "lost"
)

// RankStatus is one rank's state in resource.list's reply (ResourceReply.
// Status lists every rank's, by rank): online, lost, or
// offline while the instance boots), since when (Unix seconds) and why it
// last changed.
type RankStatus struct {
	Rank  int     `msgpack:"rank" json:"rank"`
	State string  `msgpack:"state" json:"state"`
	Since float64 `msgpack:"since,omitempty" json:"since,omitempty"`
	Why   string  `msgpack:"why,omitempty" json:"why,omitempty"`
}

// rankStatus is one rank's state at rank 0 and since when.
type rankStatus struct {
	state string
	since time.Time
	why   string
}

// setRank records a rank's new state (rank 0 only).
func (st *state) setRank(r int, state, why string) {
	if st.ranks == nil {
		st.ranks = make(map[int]*rankStatus, st.size)
	}
	st.ranks[r] = &rankStatus{state: state, since: st.now, why: why}
}

// rankStatuses lists every rank's state for resource.list.
func (st *state) rankStatuses() []RankStatus {
	out := make([]RankStatus, st.size)
	for r := range out {
		out[r] = RankStatus{Rank: r, State: rankOffline}
		if rs := st.ranks[r]; rs != nil {
			out[r].State, out[r].Why = rs.state, rs.why
			out[r].Since = float64(rs.since.UnixNano()) / 1e9
		}
	}
	return out
}

// joinParent takes the link to the parent: at boot, or when rejoining.
func (st *state) joinParent(p *peer) {
	st.parent = p
	st.emit(effect{kind: fxServePeer, peer: p})
	h := &HelloRequest{Rank: st.rank, Size: st.size, Resources: st.cfg.Resources.Ranks[0]}
	st.call(0, topicHello, h, false, func(m *overlay.Msg, err error) {
		if err == nil && m.Errnum != 0 {
			st.fail(fmt.Errorf("rank 0 refused rank %d: %s", st.rank, m.Errstr))
		}
	})
	// What came up from children before the parent link existed.
	for _, q := range st.upQueue {
		st.send(p, q.m, q.bulk)
	}
	st.upQueue = nil
	if st.joined {
		st.cfg.Logf("broker: rank %d linked to its parent again (rank %d); said hello", st.rank, p.rank)
		return
	}
	st.joined = true
	st.ready()
}

// parentLost handles the end of the link to the parent while not stopping:
// everything this broker held for the instance is void, and it dials again.
func (st *state) parentLost(p *peer) {
	st.cfg.Logf("broker: rank %d lost its parent (rank %d): %v; dialing it again to rejoin", st.rank, p.rank, p.linkErr())
	x := st.exec
	ids := make([]uint64, 0, len(x.running))
	if x.orphans == nil {
		x.orphans = make(map[uint64]bool)
	}
	for id := range x.running {
		ids = append(ids, id)
		x.orphans[id] = true // rank 0 ended these jobs; their results go nowhere
	}
	x.kill(ids, syscall.SIGKILL)
	x.upDone, x.upLines = nil, nil
	// Requests that went up (or through the parent) get no answer now.
	mine := map[int]bool{}
	for _, r := range subtree(st.rank, st.size, st.fanout) {
		mine[r] = true
	}
	up := map[int]bool{-1: true}
	for r := 0; r < st.size; r++ {
		if !mine[r] {
			up[r] = true
		}
	}
	st.failPending(up, fmt.Sprintf("rank %d lost its link to its parent", st.rank))
	for _, c := range st.childPeers() {
		st.closeLink(c) // they rejoin through this broker in turn
	}
	if st.cfg.Links != nil {
		st.emit(effect{kind: fxDialParent})
	}
}

// rejoin checks a hello at rank 0 against what rank 0 knows, and brings a
// lost rank back. It reports whether it answered the hello itself.
func (jm *jobManager) rejoin(from endpoint, m *overlay.Msg, h *HelloRequest) bool {
	st := jm.st
	refuse := func(why string) bool {
		st.cfg.Logf("broker: refused a hello from rank %d: %s", h.Rank, why)
		st.respondErr(from, m, syscall.EPERM, why)
		return true
	}
	if h.Size != 0 && h.Size != st.size {
		return refuse(fmt.Sprintf("it counts %d ranks, this instance has %d (was it started from another boot.conf?)", h.Size, st.size))
	}
	if !jm.down[h.Rank] {
		if _, on := jm.online[h.Rank]; on {
			return refuse(fmt.Sprintf("rank %d is online already (it said hello twice, or a second broker runs with rank %d)", h.Rank, h.Rank))
		}
		st.setRank(h.Rank, rankOnline, "")
		st.respond(from, m, nil)
		return false // the first hello: boot goes on
	}
	delete(jm.down, h.Rank)
	old := jm.online[h.Rank]
	if old.Cores.Count() != h.Resources.Cores.Count() || old.GPUs.Count() != h.Resources.GPUs.Count() {
		st.cfg.Logf("broker: rank %d rejoined with %d cores and %d GPUs; it keeps the %d and %d it had",
			h.Rank, h.Resources.Cores.Count(), h.Resources.GPUs.Count(), old.Cores.Count(), old.GPUs.Count())
	}
	_, drained := jm.drained[h.Rank]
	if jm.sched != nil && !drained { // a drained rank stays out of service until undrained
		jm.sched.Up(h.Rank)
	}
	st.setRank(h.Rank, rankOnline, "rejoined")
	st.cfg.Logf("broker: rank %d rejoined; its resources are back in service", h.Rank)
	st.ev.publish(EventBrokerOnline, &RanksEvent{Ranks: []int{h.Rank}, Why: "rejoined"})
	st.respond(from, m, nil)
	return true
}

// downList is the lost ranks, sorted.
func (jm *jobManager) downList() []int {
	var down []int
	for r, d := range jm.down {
		if d {
			down = append(down, r)
		}
	}
	sort.Ints(down)
	return down
}

// secondLink decides on a link from a rank whose earlier link seemed up:
// if the old one did not answer a ping (pingErr), it is dead and the new one
// replaces it; otherwise a second broker runs with that rank, and the new
// link is refused.
func (st *state) secondLink(old, p *peer, pingErr error) {
	if st.stopping {
		st.closeLink(p)
		return
	}
	if pingErr == nil && st.children[p.rank] == old {
		why := fmt.Sprintf("rank %d refused a second link from rank %d (from %s): its link from %s is up; "+
			"is a second broker running with rank %d?", st.rank, p.rank, p.remoteAddr(), old.remoteAddr(), p.rank)
		st.cfg.Logf("broker: %s", why)
		st.refuseLink(p, why)
		return
	}
	if st.children[p.rank] == old {
		st.closeLink(old)
		st.gone(old)
	}
	if st.children[p.rank] != nil { // yet another link took the place meanwhile
		st.closeLink(p)
		return
	}
	st.children[p.rank] = p
	st.emit(effect{kind: fxServePeer, peer: p})
}

// refuseLink tells the broker at the other end of a link this broker will
// not take why, then closes the link: the refused broker stops with that
// line instead of dialing again.
func (st *state) refuseLink(p *peer, why string) {
	m, err := overlay.NewRequest(topicRefused, &RanksEvent{Ranks: []int{p.rank}, Why: why})
	if err == nil {
		m.Src, m.Dst, m.Flags = int32(st.rank), int32(p.rank), overlay.FlagNoResponse
		st.send(p, m, false)
	}
	// Let the refused broker read the refusal and hang up first: closing at
	// once races its next write, and the kernel's reset can then discard
	// the refusal unread, so it dials again and is refused a second time.
	st.emit(effect{kind: fxCloseLink, peer: p, linger: true})
}

// refuseLinger bounds how long a refused link stays open for its broker to
// read why and hang up.
const refuseLinger = 2 * time.Second

// refusedRequest is the parent refusing this broker's link.
func (st *state) refusedRequest(from endpoint, m *overlay.Msg) {
	if p, ok := from.(*peer); !ok || p != st.parent {
		return
	}
	var ev RanksEvent
	_ = m.Decode(&ev)
	st.fail(fmt.Errorf("refused: %s", ev.Why))
}
