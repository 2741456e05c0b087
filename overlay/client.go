package overlay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
)

// Client makes RPCs over a Conn. One reader goroutine receives every message
// and completes the pending call whose tag the response carries (net/rpc's
// shape); a dropped connection fails every pending call at once with the
// transport error, which is never a *RemoteError.
type Client struct {
	conn    Conn
	events  atomic.Pointer[func(*Msg)]
	closing chan struct{} // closed by Close; releases a reader blocked on a full Stream

	mu      sync.Mutex       // guards nextTag, pending, err
	nextTag uint32           // last tag handed out
	pending map[uint32]*call // by tag; an entry stays until its final response
	err     error            // non-nil once the reader stopped: every later call fails with it

	closeOnce  sync.Once
	readerDone chan struct{}

	serve atomic.Pointer[func(*Msg)] // OnRequest's function (client_serve.go); nil = answer ENOSYS
}

// call is one outstanding request. complete is run by the reader goroutine
// for each response (a Stream gets several), or once with the transport error.
type call struct {
	stream   bool
	complete func(m *Msg, err error)
}

// NewClient starts the reader goroutine on c. The Client owns c from now on:
// Close closes it.
func NewClient(c Conn) *Client {
	cl := &Client{
		conn:       c,
		closing:    make(chan struct{}),
		pending:    make(map[uint32]*call),
		readerDone: make(chan struct{}),
	}
	go cl.readLoop()
	return cl
}

// OnEvent sets the function that receives Event messages. It runs on the
// reader goroutine, so it must not block; set it before the first request so
// no event is missed (events arriving with no function set are dropped).
func (c *Client) OnEvent(fn func(*Msg)) {
	c.events.Store(&fn)
}

// RPC sends a request on topic with body req and waits for its one response,
// decoding the payload into resp (which may be nil). A response with an errnum
// comes back as *RemoteError; a lost connection as a transport error. When
// ctx ends first, RPC returns ctx.Err(); the tag stays reserved until the
// late response arrives, so it cannot be mistaken for another call's.
func (c *Client) RPC(ctx context.Context, topic string, req any, resp any) error {
	return c.RPCTo(ctx, AnyRank, topic, req, resp)
}

// Go sends a request and returns without waiting. done is called exactly
// once, from the reader goroutine, so it must not block: with the response
// and nil, with the response and a *RemoteError for an error response, or with
// nil and the transport error. If Go itself returns an error, done is never
// called. Go blocks while the connection's send queue is full.
func (c *Client) Go(topic string, req any, done func(resp *Msg, err error)) error {
	m, err := NewRequest(topic, req)
	if err != nil {
		return err
	}
	return c.GoMsg(m, done)
}

// Notify sends a request that expects no response (FlagNoResponse, tag 0).
func (c *Client) Notify(topic string, req any) error {
	m, err := NewRequest(topic, req)
	if err != nil {
		return err
	}
	m.Flags |= FlagNoResponse
	c.mu.Lock()
	err = c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.conn.Send(m)
}

// start registers cl under a fresh tag and sends m with it.
func (c *Client) start(m *Msg, cl *call) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	tag := c.freeTagLocked()
	c.pending[tag] = cl
	c.mu.Unlock()

	m.Tag = tag
	if err := c.conn.Send(m); err != nil {
		c.mu.Lock()
		_, mine := c.pending[tag]
		delete(c.pending, tag)
		c.mu.Unlock()
		if !mine {
			// The reader failed every call (including this one, with the
			// transport error) between our registration and now; done has
			// been called, so reporting err too would make it twice.
			return nil
		}
		return err
	}
	return nil
}

// freeTagLocked returns a tag in 1..2^32-1 that no pending call holds.
func (c *Client) freeTagLocked() uint32 {
	for {
		c.nextTag++
		if c.nextTag == 0 {
			continue // 0 means "no response expected"
		}
		if _, busy := c.pending[c.nextTag]; !busy {
			return c.nextTag
		}
	}
}

func (c *Client) readLoop() {
	defer close(c.readerDone)
	for {
		m, err := c.conn.Recv()
		if err != nil {
			c.failAll(err)
			return
		}
		switch m.Type {
		case Response:
			c.dispatch(m)
		case Event:
			if fn := c.events.Load(); fn != nil && *fn != nil {
				(*fn)(m)
			}
		case Request:
			if fn := c.serve.Load(); fn != nil && *fn != nil {
				(*fn)(m) // client_serve.go
			} else if m.Flags&FlagNoResponse == 0 && m.Tag != 0 {
				// A client without OnRequest serves nothing. Answer from a
				// fresh goroutine: the reader must never wait on the writer
				// (STYLE.md 5).
				resp := m.RespondError(syscall.ENOSYS, fmt.Sprintf("a client serves no requests (topic %q)", m.Topic))
				go c.conn.Send(resp)
			}
		}
		// Other types are from a newer protocol: ignored, as PROTOCOL.md says.
	}
}

// dispatch completes the call that m answers. A response matching no pending
// tag is dropped: tags of abandoned calls stay reserved until their response,
// so this only happens with a confused server.
func (c *Client) dispatch(m *Msg) {
	c.mu.Lock()
	cl := c.pending[m.Tag]
	if cl != nil && (!cl.stream || m.Flags&FlagMore == 0 || m.Errnum != 0) {
		delete(c.pending, m.Tag)
	}
	c.mu.Unlock()
	if cl != nil {
		cl.complete(m, nil)
	}
}

// failAll records why the connection ended and fails every pending call.
func (c *Client) failAll(err error) {
	switch {
	case errors.Is(err, ErrClosed):
		err = ErrClosed
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("overlay: the instance closed the connection: %w", io.ErrUnexpectedEOF)
	default:
		err = fmt.Errorf("overlay: lost the connection to the instance: %w", err)
	}
	c.mu.Lock()
	c.err = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, cl := range pending {
		cl.complete(nil, err)
	}
}

// Close closes the connection, fails pending calls with ErrClosed and waits
// for the reader goroutine to finish.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.conn.Close()
	})
	<-c.readerDone
	return nil
}
