package broker

import (
	"context"
	"errors"
	"fmt"
	"github.com/fluxtaskfarm/flux/broker/boot"
	"sync"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
)

// peer is a neighbouring broker: the parent or a child. Its control stream
// carries requests, responses and events; its bulk stream carries results
// and output going up, so a flood of output never delays control traffic.
type peer struct {
	rank int
	link *overlay.Link
	logf func(format string, args ...any)
	full bool // a send found its queue full; the link is being closed
}

// send queues m for the peer without ever blocking the loop. Each of the
// link's streams queues at most 4096 messages or 64 MiB; a peer that lets
// that fill up has stopped reading (SIGSTOP, a swapping node, a hung
// process), so the rule at the limit is: the link is closed and the peer
// treated as lost, exactly as when its heartbeats stop. Nothing is dropped
// silently: what was on its way is failed or rerun by the lost-rank rules.
func (p *peer) send(m *overlay.Msg, bulk bool) {
	if p.full {
		return
	}
	c := p.link.Control()
	if bulk {
		c = p.link.Bulk()
	}
	// Any other error means the link is going; its Done reports that to
	// the loop.
	if err := overlay.TrySend(c, m); errors.Is(err, overlay.ErrSendQueueFull) {
		p.full = true
		p.logf("broker: rank %d is not reading (its send queue is full); treating it as lost", p.rank)
		go p.link.Close() // Close waits up to 2 s for a flush; never on the loop
	}
}

func (p *peer) isEndpoint() {}

// What the state may ask of a peer's link: queries, never actions. A peer
// without a link (a unit test's) is alive, with no error and no address.

// linkEnded reports whether the link has ended (its news may still be queued).
func (p *peer) linkEnded() bool {
	if p.link == nil {
		return false
	}
	select {
	case <-p.link.Done():
		return true
	default:
		return false
	}
}

// linkErr is why the link ended.
func (p *peer) linkErr() error {
	if p.link == nil {
		return nil
	}
	return p.link.Err()
}

// remoteAddr is the other end's address, for messages.
func (p *peer) remoteAddr() string {
	if p.link == nil {
		return "(no link)"
	}
	return p.link.RemoteAddr().String()
}

// linkEvent is news from the link goroutines.
type linkEvent struct {
	p      *peer
	parent bool
	err    error // the parent could not be reached
}

// startLinks listens for children (when this rank has any) and dials the
// parent (when this rank is not 0), in the background.
func (b *Broker) startLinks() error {
	ls := b.cfg.Links
	lc := ls.Link
	lc.Rank = int32(b.cfg.Rank)
	if lc.Logf == nil {
		lc.Logf = b.cfg.Logf
	}
	switch {
	case len(boot.Children(b.cfg.Rank, b.cfg.Size, b.cfg.Fanout)) == 0:
		if ls.Listener != nil {
			ls.Listener.Close()
		}
	case ls.Listener != nil:
		b.listener = overlay.ServeLinks(ls.Listener, lc)
		go b.acceptChildren(b.listener)
	default:
		l, err := overlay.ListenLinks(ls.Listen, lc)
		if err != nil {
			return fmt.Errorf("rank %d: listening for its children on %s: %w", b.cfg.Rank, ls.Listen, err)
		}
		b.listener = l
		if ls.OnListen != nil {
			ls.OnListen(l.Addr().String())
		}
		go b.acceptChildren(l)
	}
	b.linkCfg = lc
	if b.cfg.Rank > 0 {
		go b.dialParent(ls, lc)
	}
	return nil
}

func (b *Broker) acceptChildren(l *overlay.LinkListener) {
	for {
		link, err := l.Accept()
		if err != nil {
			return
		}
		r := int(link.PeerRank())
		if boot.Parent(r, b.cfg.Fanout) != b.cfg.Rank || r >= b.cfg.Size {
			b.cfg.Logf("broker: rank %d: dropped a link from %s claiming rank %d, which is not one of its children",
				b.cfg.Rank, link.RemoteAddr(), r)
			link.Close()
			continue
		}
		select {
		case b.links <- linkEvent{p: &peer{rank: r, link: link, logf: b.cfg.Logf}}:
		case <-b.stopped:
			link.Close()
			return
		}
	}
}

// dialParent keeps trying until the parent answers or the time is up: in a
// host list the brokers start in any order, and a broker that lost its
// parent dials it again to rejoin. A parent that refuses this broker (another
// instance's key or session, a protocol it does not speak) is not retried:
// the answer will not change.
func (b *Broker) dialParent(ls *LinkSetup, lc overlay.LinkConfig) {
	timeout := ls.DialTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	parent := boot.Parent(b.cfg.Rank, b.cfg.Fanout)
	report := func(le linkEvent) {
		select {
		case b.links <- le:
		case <-b.stopped:
			if le.p != nil {
				le.p.link.Close()
			}
		}
	}
	var last error
	for {
		link, err := overlay.DialLink(ctx, ls.Parent, lc)
		if err == nil {
			if int(link.PeerRank()) != parent {
				link.Close()
				err = fmt.Errorf("%s is rank %d, not rank %d", ls.Parent, link.PeerRank(), parent)
			} else {
				report(linkEvent{p: &peer{rank: parent, link: link, logf: b.cfg.Logf}, parent: true})
				return
			}
		}
		if refused(err) {
			report(linkEvent{parent: true, err: fmt.Errorf("rank %d was refused by its parent (rank %d at %s): %v",
				b.cfg.Rank, parent, ls.Parent, err)})
			return
		}
		last = err
		select {
		case <-ctx.Done():
			report(linkEvent{parent: true, err: fmt.Errorf("rank %d could not reach its parent (rank %d at %s) in %v: %v",
				b.cfg.Rank, parent, ls.Parent, timeout, last)})
			return
		case <-b.quit:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// refused tells a parent's definite no from a parent not up (yet).
func refused(err error) bool {
	for _, e := range []error{overlay.ErrAuthFailed, overlay.ErrSessionMismatch, overlay.ErrEncryptMismatch,
		overlay.ErrBadHello, overlay.ErrNotBroker} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// serve reads a peer's two streams into the loop and reports when the link
// is gone: only after both readers have handed over everything that came
// before the end, so a parent's last message (broker.shutdown) is always
// seen before its link's loss.
func (b *Broker) servePeer(p *peer) {
	var readers sync.WaitGroup
	readers.Add(2)
	read := func(c overlay.Conn, bulk bool) {
		defer readers.Done()
		for {
			m, err := c.Recv()
			if err != nil {
				return
			}
			select {
			case b.reqs <- request{from: p, m: m, bulk: bulk}:
			case <-b.stopped:
				return
			}
		}
	}
	go read(p.link.Control(), false)
	go read(p.link.Bulk(), true)
	go func() {
		<-p.link.Done()
		readers.Wait()
		select {
		case b.reqs <- request{from: p, gone: true}:
		case <-b.stopped:
		}
	}()
}

// link takes a new link into the tree.
func (st *state) link(le linkEvent) {
	if le.err != nil {
		st.fail(le.err)
		return
	}
	p := le.p
	if st.stopping {
		st.closeLink(p)
		return
	}
	if le.parent {
		st.joinParent(p)
		return
	}
	if old := st.children[p.rank]; old != nil {
		if old.linkEnded() {
			// The old link ended and its news is still queued behind
			// this one: the rank was restarted. Lose it first, then
			// let it rejoin.
			st.gone(old)
		} else {
			// Is the old link alive? A broker that lost its parent
			// may dial again before this side has noticed the loss
			// (a partition heals, one side's heartbeats ran out
			// first). Ask the old peer; the answer comes back to the
			// loop (secondLink), which then takes the new link or
			// refuses it.
			st.emit(effect{kind: fxPingLink, peer: old, peer2: p})
			return
		}
	}
	st.children[p.rank] = p
	st.emit(effect{kind: fxServePeer, peer: p})
}

// gone handles an endpoint that went away.
func (st *state) gone(from endpoint) {
	switch e := from.(type) {
	case *client:
		st.clientGone(e)
	case *peer:
		if e == st.parent {
			st.parent = nil
			if !st.stopping {
				st.parentLost(e)
			}
			return
		}
		if st.children[e.rank] != e {
			return
		}
		delete(st.children, e.rank)
		if st.stopping {
			return
		}
		lost := subtree(e.rank, st.size, st.fanout)
		why := fmt.Sprintf("its link to rank %d broke: %v", st.rank, e.linkErr())
		if e.full {
			why = fmt.Sprintf("it stopped reading: rank %d's send queue to it was full", st.rank)
		}
		set := make(map[int]bool, len(lost))
		for _, r := range lost {
			set[r] = true
		}
		st.failPending(set, fmt.Sprintf("rank %d lost", e.rank))
		if st.jm != nil {
			st.jm.ranksLost(lost, why)
		} else {
			st.call(0, topicLost, &RanksEvent{Ranks: lost, Why: why}, false, nil)
		}
	}
}

// clientGone forgets a client everywhere: its watchers (whose jobs are
// canceled), subscriptions, services, and requests proxied for it.
func (st *state) clientGone(c *client) {
	if st.jm != nil {
		st.jm.clientGone(c)
	}
	st.ev.clientGone(c)
	st.mods.clientGone(c)
	for tag, pr := range st.pending {
		switch {
		case pr.origin == endpoint(c):
			delete(st.pending, tag)
			if pr.stream && pr.topic == TopicResults {
				// The job manager is elsewhere: tell it the stream's reader left.
				st.call(0, topicDisconnect, &DisconnectNotice{Tag: tag}, false, nil)
			}
		case pr.via == c:
			delete(st.pending, tag)
			st.sendResponse(pr.origin, &overlay.Msg{Type: overlay.Response, Topic: pr.topic, Tag: pr.origTag,
				Dst: pr.origSrc, Errnum: int32(syscall.ENOSYS), Errstr: "the module providing " + pr.topic + " went away"})
		}
	}
	st.emit(effect{kind: fxCloseClient, client: c})
}
