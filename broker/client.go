package broker

import (
	"strconv"
	"sync"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
)

// maxQueuedOutput bounds the streamed output lines waiting for one slow
// client. Past it further lines of that client are dropped and counted, and
// one notice line says how many, so a client that stops reading can never
// make the broker grow without bound.
const maxQueuedOutput = 65536

// maxBacklog and maxBacklogBytes bound everything else waiting for one
// client: replies, results and started notices not yet sent. A client past
// either has stopped reading (asleep, stopped, wedged): the broker drops it
// with one log line, as if it had disconnected (its results streams end
// and their jobs are canceled, so a later --resume runs them). A client
// that reads keeps its backlog near zero; the limits are far above what a
// capacitor's window of lines produces between two reads.
const (
	maxBacklog      = 1 << 16
	maxBacklogBytes = 64 << 20
)

// client is one connection. Its reader forwards requests to the loop; its
// outbox goroutine sends what the loop queued, batching the results of each
// job.results stream into one message per wake-up.
type client struct {
	b    *Broker
	conn overlay.Conn
	wake chan struct{} // capacity 1: "there is something to send"; never closed

	sendMu sync.Mutex // held for a whole flush, so batches leave in order

	mu      sync.Mutex
	replies []*overlay.Msg           // guarded by mu
	streams map[uint32]*resultStream // by the job.results request's tag; guarded by mu
	closed  bool                     // guarded by mu
	backlog int                      // guarded by mu: messages queued since the last flush
	bytes   int                      // guarded by mu: their approximate size
	procID  int                      // guarded by mu: the pid a module gave in service.add
}

func (c *client) setPid(pid int) {
	c.mu.Lock()
	c.procID = pid
	c.mu.Unlock()
}

func (c *client) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procID
}

// resultStream is what waits to go out on one job.results stream.
type resultStream struct {
	req     *overlay.Msg
	results []JobResult
	lines   []OutputLine
	started []uint64
	dropped int
}

func newClient(b *Broker, conn overlay.Conn) *client {
	return &client{b: b, conn: conn, wake: make(chan struct{}, 1), streams: make(map[uint32]*resultStream)}
}

func (c *client) reader() {
	for {
		m, err := c.conn.Recv()
		if err != nil {
			select {
			case c.b.reqs <- request{from: c, gone: true}:
			case <-c.b.stopped:
				c.close()
			}
			return
		}
		select {
		case c.b.reqs <- request{from: c, m: m}:
		case <-c.b.stopped:
			if m.Type == overlay.Request && expectsResponse(m) {
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

func (c *client) isEndpoint() {}

func (c *client) reply(m *overlay.Msg) {
	c.mu.Lock()
	if !c.closed {
		c.replies = append(c.replies, m)
		c.queued(len(m.Payload))
	}
	c.mu.Unlock()
	c.signal()
}

// queued counts one more message of about n bytes, and drops the client
// when its backlog is past the limits. Called with mu held.
func (c *client) queued(n int) {
	c.backlog++
	c.bytes += n + 64
	if c.backlog <= maxBacklog && c.bytes <= maxBacklogBytes {
		return
	}
	c.b.cfg.Logf("broker: dropped a client (pid %d) that stopped reading: %d messages (%d MiB) waiting for it",
		c.procID, c.backlog, c.bytes>>20)
	c.closed = true
	c.replies, c.streams = nil, map[uint32]*resultStream{}
	c.backlog, c.bytes = 0, 0
	// Closing a conn may wait (a bounded flush): never on the loop. The
	// reader then sees the end and tells the loop the client is gone.
	go c.conn.Close()
}

func (c *client) stream(req *overlay.Msg) *resultStream {
	s := c.streams[req.Tag]
	if s == nil {
		s = &resultStream{req: req}
		c.streams[req.Tag] = s
	}
	return s
}

// deliver queues a result on the job.results stream req.
func (c *client) deliverResult(req *overlay.Msg, r *JobResult) {
	c.mu.Lock()
	if !c.closed {
		s := c.stream(req)
		s.results = append(s.results, *r)
		c.queued(len(r.Stdout) + len(r.Stderr))
	}
	c.mu.Unlock()
	c.signal()
}

// started queues the cookie of a job that started, on the job.results stream req.
func (c *client) started(req *overlay.Msg, cookie uint64) {
	c.mu.Lock()
	if !c.closed {
		s := c.stream(req)
		s.started = append(s.started, cookie)
		c.queued(0)
	}
	c.mu.Unlock()
	c.signal()
}

// output queues one streamed line on the job.results stream req.
func (c *client) output(req *overlay.Msg, l OutputLine) {
	c.mu.Lock()
	if !c.closed {
		s := c.stream(req)
		if len(s.lines) < maxQueuedOutput {
			s.lines = append(s.lines, l)
		} else {
			s.dropped++
		}
	}
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

// flush sends everything queued: replies first, then one batch per results
// stream. It reports false once the connection is unusable.
func (c *client) flush() bool {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	replies := c.replies
	c.replies = nil
	c.backlog, c.bytes = 0, 0
	var batches []*overlay.Msg
	for tag, s := range c.streams {
		if len(s.results) == 0 && len(s.lines) == 0 && len(s.started) == 0 && s.dropped == 0 {
			delete(c.streams, tag)
			continue
		}
		if s.dropped > 0 {
			s.lines = append(s.lines, OutputLine{Stderr: true,
				Data: []byte("[flux: " + strconv.Itoa(s.dropped) + " output lines dropped: this client reads too slowly]\n")})
			s.dropped = 0
		}
		m, err := s.req.Respond(&ResultBatch{Output: s.lines, Results: s.results, Started: s.started})
		if err != nil {
			m = s.req.RespondError(syscall.EPROTO, err.Error())
		}
		m.Flags |= overlay.FlagMore
		batches = append(batches, m)
		// The batch is encoded: keep the slices' room for the next one (a
		// busy stream flushes about as much each time), not their contents.
		clear(s.lines)
		clear(s.results)
		s.lines, s.results, s.started = s.lines[:0], s.results[:0], s.started[:0]
	}
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return false
	}
	for _, m := range append(replies, batches...) {
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
	c.mu.Unlock()
	if !already {
		c.conn.Close()
		c.signal() // the outbox wakes, sees closed and returns
	}
}
