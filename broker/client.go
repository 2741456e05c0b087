package broker

import (
	"sync"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
)

// maxQueuedOutput bounds the streamed output lines waiting for one slow
// client; past it the task that writes them blocks (back-pressure through
// its pipe) instead of the broker growing without bound.
const maxQueuedOutput = 65536

// client is one connection. Its reader forwards requests to the loop; its
// outbox goroutine sends what the loop queued, batching results into one
// message per wake-up.
type client struct {
	b    *Broker
	conn overlay.Conn
	wake chan struct{} // capacity 1: "there is something to send"; never closed

	sendMu sync.Mutex // held for a whole flush, so batches leave in order

	mu         sync.Mutex
	cond       *sync.Cond     // signalled when output drains; uses mu
	replies    []*overlay.Msg // guarded by mu
	results    []JobResult    // guarded by mu
	lines      []OutputLine   // guarded by mu
	resultsReq *overlay.Msg   // the open job.results request; guarded by mu
	closed     bool           // guarded by mu
}

func newClient(b *Broker, conn overlay.Conn) *client {
	c := &client{b: b, conn: conn, wake: make(chan struct{}, 1)}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *client) reader() {
	for {
		m, err := c.conn.Recv()
		if err != nil {
			select {
			case c.b.reqs <- request{c: c, gone: true}:
			case <-c.b.stopped:
				c.close()
			}
			return
		}
		select {
		case c.b.reqs <- request{c: c, m: m}:
		case <-c.b.stopped:
			if m.Type == overlay.Request && m.Flags&overlay.FlagNoResponse == 0 {
				c.reply(m.RespondError(syscall.ENOSYS, ErrShutdown.Error()))
				c.flush()
			}
		}
	}
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *client) reply(m *overlay.Msg) {
	c.mu.Lock()
	if !c.closed {
		c.replies = append(c.replies, m)
	}
	c.mu.Unlock()
	c.signal()
}

func (c *client) deliver(r *JobResult) {
	c.mu.Lock()
	if !c.closed {
		c.results = append(c.results, *r)
	}
	c.mu.Unlock()
	c.signal()
}

// output queues one streamed line; it blocks while too many wait.
func (c *client) output(l OutputLine) {
	c.mu.Lock()
	for len(c.lines) >= maxQueuedOutput && !c.closed {
		c.cond.Wait()
	}
	if !c.closed {
		c.lines = append(c.lines, l)
	}
	c.mu.Unlock()
	c.signal()
}

func (c *client) openResults(m *overlay.Msg) {
	c.mu.Lock()
	c.resultsReq = m
	c.mu.Unlock()
	c.signal()
}

// outbox sends until the connection closes.
func (c *client) outbox() {
	for range c.wake {
		if !c.flush() {
			return
		}
	}
}

// flush sends everything queued: replies first, then one batch of output
// lines and results. It reports false once the connection is unusable.
func (c *client) flush() bool {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	replies := c.replies
	c.replies = nil
	var batch *ResultBatch
	if c.resultsReq != nil && (len(c.results) > 0 || len(c.lines) > 0) {
		batch = &ResultBatch{Output: c.lines, Results: c.results}
		c.lines, c.results = nil, nil
		c.cond.Broadcast()
	}
	rq, closed := c.resultsReq, c.closed
	c.mu.Unlock()
	if closed {
		return false
	}
	for _, m := range replies {
		if c.conn.Send(m) != nil {
			c.close()
			return false
		}
	}
	if batch != nil {
		m, err := rq.Respond(batch)
		if err != nil {
			m = rq.RespondError(syscall.EPROTO, err.Error())
		}
		m.Flags |= overlay.FlagMore
		if c.conn.Send(m) != nil {
			c.close()
			return false
		}
	}
	return true
}

func (c *client) close() {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	if !already {
		c.conn.Close()
		c.signal() // the outbox wakes, sees closed and returns
	}
}
