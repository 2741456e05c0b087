package broker

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
)

// Topics for what a Flux user asks of the instance itself (flux uptime,
// getattr, lsattr, dmesg, resource drain).
const (
	TopicAttrs = "broker.attrs"   // nil -> AttrsReply, at the broker asked
	TopicDmesg = "log.dmesg"      // nil -> DmesgReply, at the broker asked
	TopicDrain = "resource.drain" // DrainRequest -> DrainReply, at rank 0
)

// AttrsReply is a broker's attributes, Flux's names where Flux has them.
type AttrsReply struct {
	Attrs map[string]string `msgpack:"attrs"`
}

// DmesgReply is the broker's log ring, oldest first.
type DmesgReply struct {
	Lines []string `msgpack:"lines"`
}

// DrainRequest drains ranks (no new jobs start there; running ones finish)
// or, with Undrain, puts them back.
type DrainRequest struct {
	Ranks   []int  `msgpack:"ranks"`
	Reason  string `msgpack:"reason,omitempty"`
	Undrain bool   `msgpack:"undrain,omitempty"`
}

// DrainReply names the ranks that could not be (un)drained, and why.
type DrainReply struct {
	Errs []string `msgpack:"errs,omitempty"`
}

// DrainInfo is one drained rank, in ResourceReply.
type DrainInfo struct {
	Rank     int       `msgpack:"rank" json:"rank"`
	Since    time.Time `msgpack:"since" json:"since"`
	Reason   string    `msgpack:"reason,omitempty" json:"reason,omitempty"`
	Draining bool      `msgpack:"draining,omitempty" json:"draining,omitempty"` // jobs still run there
}

// logRing keeps the broker's last log lines for flux dmesg. Logf is called
// from the loop and from other goroutines, hence the lock.
type logRing struct {
	mu    sync.Mutex // guards lines and next
	lines []string
	next  int
	full  bool
}

const logRingSize = 1000

func newLogRing() *logRing { return &logRing{lines: make([]string, logRingSize)} }

func (r *logRing) add(s string) {
	r.mu.Lock()
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	r.full = r.full || r.next == 0
	r.mu.Unlock()
}

func (r *logRing) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	return append(append([]string(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}

// note adds a line to the ring only (not to the log): what flux dmesg
// shows of an instance that had nothing to complain about.
func (r *logRing) note(rank int, format string, args ...any) {
	r.add(time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") + " broker.info[" + strconv.Itoa(rank) + "]: " +
		fmt.Sprintf(format, args...))
}

// withRing makes a Logf that also keeps each line in ring, stamped as
// flux dmesg prints them.
func withRing(ring *logRing, rank int, logf func(string, ...any)) func(string, ...any) {
	return func(format string, args ...any) {
		ring.note(rank, format, args...)
		logf(format, args...) // as given: a Logf may look at the format
	}
}

func (st *state) attrs(from endpoint, m *overlay.Msg) {
	a := map[string]string{
		"rank": strconv.Itoa(st.rank), "size": strconv.Itoa(st.size), "tbon.fanout": strconv.Itoa(st.fanout),
		"hostname": st.host, "broker.pid": strconv.Itoa(os.Getpid()),
		"broker.starttime": strconv.FormatFloat(float64(st.started.UnixNano())/1e9, 'f', 6, 64),
		"local-uri":        st.cfg.URI, "instance-level": os.Getenv("FLUX_INSTANCE_LEVEL"),
		"security.owner": strconv.Itoa(os.Getuid()), "sched.policy": st.cfg.Sched.Policy,
		"parent-uri": os.Getenv("FLUX_PARENT_URI"),
	}
	if a["instance-level"] == "" {
		a["instance-level"] = "0"
	}
	st.respond(from, m, &AttrsReply{Attrs: a})
}

func (st *state) dmesg(from endpoint, m *overlay.Msg) {
	st.respond(from, m, &DmesgReply{Lines: st.ring.all()})
}

// drained ranks, with when and why, kept at rank 0.
type drainState struct {
	since  time.Time
	reason string
}

func (jm *jobManager) drain(from endpoint, m *overlay.Msg) {
	if jm.notReady(from, m) {
		return
	}
	var req DrainRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "resource.drain: "+err.Error())
		return
	}
	if jm.drained == nil {
		jm.drained = make(map[int]drainState)
	}
	var reply DrainReply
	for _, r := range req.Ranks {
		_, isDrained := jm.drained[r]
		switch {
		case r < 0 || r >= jm.st.size:
			reply.Errs = append(reply.Errs, fmt.Sprintf("rank %d: the instance has ranks 0-%d", r, jm.st.size-1))
		case jm.down[r]:
			reply.Errs = append(reply.Errs, fmt.Sprintf("rank %d: lost (its broker is gone), not drained", r))
		case req.Undrain && !isDrained:
			reply.Errs = append(reply.Errs, fmt.Sprintf("rank %d: not drained", r))
		case req.Undrain:
			delete(jm.drained, r)
			jm.sched.Up(r)
			jm.st.ring.note(jm.st.rank, "resource: undrained rank %d", r)
		default:
			// Draining again updates the reason, as in Flux.
			ds := jm.drained[r]
			if !isDrained {
				ds.since = jm.st.now
			}
			ds.reason = req.Reason
			jm.drained[r] = ds
			jm.sched.Down(r)
			if req.Reason != "" {
				jm.st.ring.note(jm.st.rank, "resource: drained rank %d: %s", r, req.Reason)
			} else {
				jm.st.ring.note(jm.st.rank, "resource: drained rank %d", r)
			}
		}
	}
	jm.st.respond(from, m, &reply)
}

// drainInfo lists drained ranks for resource.list.
func (jm *jobManager) drainInfo() []DrainInfo {
	var out []DrainInfo
	for r, ds := range jm.drained {
		busy := false
		for _, j := range jm.jobs {
			if j.state == stateRunning && j.parts[r] != nil && !j.parts[r].done {
				busy = true
				break
			}
		}
		out = append(out, DrainInfo{Rank: r, Since: ds.since, Reason: ds.reason, Draining: busy})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Rank < out[b].Rank })
	return out
}
