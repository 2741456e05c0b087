package broker

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

// A core is one broker's state machine with no Broker around it: no
// socket, process, goroutine or clock. Tests hand it events as the loop
// would (handle, link, launched, ...) and compare the effects it asks for,
// rendered as short lines, with a table.
type core struct {
	t       *testing.T
	st      *state
	peers   map[int]*peer // its neighbours, by rank
	clients map[*client]string
	logs    []string
}

// coreT0 is the clock of every core test: the state reads only the events' time.
var coreT0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// takeEffects hands over what the events so far asked for, and forgets it
// (the loop performs them instead: Broker.perform).
func (st *state) takeEffects() []effect {
	fx := st.fx
	st.fx = nil
	return fx
}

// newCore makes rank's state in an instance of size with fanout, each rank
// with two cores, linked to its parent and children.
func newCore(t *testing.T, rank, size, fanout int) *core {
	t.Helper()
	c := &core{t: t, peers: map[int]*peer{}, clients: map[*client]string{}}
	cfg := &Config{
		Resources: resources.Set{Ranks: []resources.Rank{{Rank: rank, Host: fmt.Sprintf("n%d", rank), Cores: resources.RangeIDSet(0, 1)}}},
		Rank:      rank, Size: size, Fanout: fanout, KillGrace: 5 * time.Second, History: 100, HistoryBytes: 1 << 20,
		Logf: func(format string, args ...any) { c.logs = append(c.logs, fmt.Sprintf(format, args...)) },
	}
	st, err := newState(cfg, newLogRing(), cfg.Resources.Ranks[0].Host, coreT0)
	if err != nil {
		t.Fatal(err)
	}
	c.st = st
	for _, r := range boot.Children(rank, size, fanout) {
		c.peers[r] = &peer{rank: r}
		st.children[r] = c.peers[r]
	}
	if rank > 0 {
		p := boot.Parent(rank, fanout)
		c.peers[p] = &peer{rank: p}
		st.parent, st.joined = c.peers[p], true
	}
	st.takeEffects()
	return c
}

// client makes a client connection known by name in the effects.
func (c *core) client(name string) *client {
	cl := &client{}
	c.clients[cl] = name
	return cl
}

// from hands the state one message from an endpoint, then ends the pass as
// the loop does, and returns the effects rendered.
func (c *core) from(e endpoint, m *overlay.Msg) []string {
	c.st.handle(request{from: e, m: m})
	return c.pass()
}

// pass ends a loop pass (schedule at rank 0, flush what was collected) and
// returns its effects.
func (c *core) pass() []string {
	c.t.Helper()
	if c.st.jm != nil && !c.st.stopping {
		c.st.jm.schedule()
	}
	c.st.endOfPass()
	return c.show(c.st.takeEffects())
}

// effects returns what was asked since the last call, without ending a pass.
func (c *core) effects() []string { return c.show(c.st.takeEffects()) }

// raw returns the effects themselves, ending a pass.
func (c *core) raw() []effect {
	if c.st.jm != nil && !c.st.stopping {
		c.st.jm.schedule()
	}
	c.st.endOfPass()
	return c.st.takeEffects()
}

func (c *core) show(fx []effect) []string {
	out := []string{}
	for _, e := range fx {
		out = append(out, c.line(e))
	}
	return out
}

// line renders one effect: its kind, where it goes, and the message's
// envelope (tags are the broker's own, so they are shown).
func (c *core) line(e effect) string {
	switch e.kind {
	case fxSend:
		s := fmt.Sprintf("send %d %s", e.peer.rank, msgLine(e.msg))
		if e.bulk {
			s += " bulk"
		}
		return s
	case fxReply:
		return fmt.Sprintf("reply %s %s", c.clients[e.client], msgLine(e.msg))
	case fxResult:
		return fmt.Sprintf("result %s status=%d", c.clients[e.client], e.result.Status)
	case fxStarted:
		return fmt.Sprintf("started %s", c.clients[e.client])
	case fxOutput:
		return fmt.Sprintf("output %s", c.clients[e.client])
	case fxCloseClient:
		return fmt.Sprintf("close client %s", c.clients[e.client])
	case fxLocal:
		var why []string
		for _, r := range e.batch.Results {
			why = append(why, fmt.Sprintf("%d:%s", r.Cookie, r.Err))
		}
		sort.Strings(why)
		return fmt.Sprintf("local results=[%s] started=%d", strings.Join(why, " "), len(e.batch.Started))
	case fxLaunch:
		ranks := []int{}
		for _, t := range e.spec.Tasks {
			ranks = append(ranks, t.Rank)
		}
		return fmt.Sprintf("launch %s tasks=%v pmi=%v", strings.Join(e.spec.Argv, " "), ranks, e.part != nil)
	case fxKill:
		return fmt.Sprintf("kill %s", syscallName(e.sig))
	case fxKillAll:
		return "kill all"
	case fxTimer:
		name := map[timerKind]string{timerEscalate: "escalate", timerDeadline: "deadline"}[e.timer]
		return fmt.Sprintf("timer %s %v", name, e.after)
	case fxServePeer:
		return fmt.Sprintf("serve %d", e.peer.rank)
	case fxCloseLink:
		if e.linger {
			return fmt.Sprintf("close link %d linger", e.peer.rank)
		}
		return fmt.Sprintf("close link %d", e.peer.rank)
	case fxPingLink:
		return fmt.Sprintf("ping link %d", e.peer.rank)
	case fxDialParent:
		return "dial parent"
	case fxStartModule:
		return "start module " + e.module.name
	case fxSignal:
		return fmt.Sprintf("signal %d %s", e.pid, syscallName(e.sig))
	case fxReady:
		return "ready"
	case fxPMIReply:
		if e.err != nil {
			return "pmi reply error: " + e.err.Error()
		}
		return "pmi reply " + kvsLine(e.kvs)
	case fxStopInstance:
		return "stop instance"
	}
	return fmt.Sprintf("effect %d", e.kind)
}

func syscallName(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGKILL:
		return "KILL"
	}
	return fmt.Sprint(int(s))
}

// msgLine renders an envelope: type, topic, tag, src, dst, and an error.
func msgLine(m *overlay.Msg) string {
	s := fmt.Sprintf("%s %s tag=%d src=%d dst=%d", m.Type, m.Topic, m.Tag, m.Src, m.Dst)
	if m.Errnum != 0 {
		s += fmt.Sprintf(" errnum=%d", m.Errnum)
	}
	return s
}

func kvsLine(kvs map[string]string) string {
	keys := make([]string, 0, len(kvs))
	for k := range kvs {
		keys = append(keys, k+"="+kvs[k])
	}
	sort.Strings(keys)
	return "{" + strings.Join(keys, " ") + "}"
}

// newMsg builds a request message as a client or a peer sends it.
func newMsg(topic string, src, dst int32, tag uint32, body any) *overlay.Msg {
	m, err := overlay.NewRequest(topic, body)
	if err != nil {
		panic(err)
	}
	m.Src, m.Dst, m.Tag = src, dst, tag
	return m
}

// sent finds the one message sent to rank with topic among fx.
func sent(t *testing.T, fx []effect, rank int, topic string) *overlay.Msg {
	t.Helper()
	var found *overlay.Msg
	for _, e := range fx {
		if e.kind == fxSend && e.peer.rank == rank && e.msg.Topic == topic {
			if found != nil {
				t.Fatalf("two %s messages to rank %d", topic, rank)
			}
			found = e.msg
		}
	}
	if found == nil {
		t.Fatalf("no %s message to rank %d among %d effects", topic, rank, len(fx))
	}
	return found
}

// wantFx compares rendered effects with the expected lines.
func wantFx(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\n want:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
