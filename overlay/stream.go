package overlay

import (
	"context"
	"io"
	"sync"
	"syscall"
)

// streamBuffer bounds the responses a Stream holds for its reader. When it is
// full the Client's reader goroutine waits for the Stream to be drained or
// closed, so a slow stream consumer slows the whole connection (back-pressure
// reaches the server through the socket) rather than growing memory.
const streamBuffer = 1024

// Stream is the receiving end of a streaming RPC (FlagStreaming). A Stream
// must be read to its end or closed.
type Stream struct {
	ctx  context.Context
	ch   chan *Msg     // responses, filled by the client's reader
	term chan struct{} // closed when the connection failed; termErr says why
	// termErr is written once before term is closed.
	termErr error

	closed    chan struct{}
	closeOnce sync.Once

	mu   sync.Mutex  // guards stop: the AfterFunc may fire before Stream stores it
	stop func() bool // releases the context.AfterFunc

	end error // sticky result once the stream is over; only Recv's goroutine
}

// Stream sends a FlagStreaming request and returns the Stream its responses
// arrive on. When ctx ends, the Stream is closed and Recv returns ctx.Err().
func (c *Client) Stream(ctx context.Context, topic string, req any) (*Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := NewRequest(topic, req)
	if err != nil {
		return nil, err
	}
	m.Flags |= FlagStreaming
	s := &Stream{
		ctx:    ctx,
		ch:     make(chan *Msg, streamBuffer),
		term:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	cl := &call{stream: true, complete: func(m *Msg, err error) {
		if err != nil {
			s.termErr = err
			close(s.term)
			return
		}
		select {
		case s.ch <- m:
		case <-s.closed: // the consumer gave up: discard until the final response frees the tag
		case <-c.closing:
		}
	}}
	if err := c.start(m, cl); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, s.Close)
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
	return s, nil
}

// Recv returns the next response. A response without FlagMore is the last:
// it is returned, and later calls return io.EOF. A final response with errnum
// ENODATA is the conventional empty end and returns io.EOF directly; any
// other errnum ends the stream with a *RemoteError. A lost connection returns
// the transport error (never io.EOF, so a truncated stream is not mistaken for
// a complete one).
func (s *Stream) Recv() (*Msg, error) {
	if s.end != nil {
		return nil, s.end
	}
	var m *Msg
	select {
	case m = <-s.ch: // queued responses first, even after a failure
	default:
		select {
		case m = <-s.ch:
		case <-s.term:
			select {
			case m = <-s.ch:
			default:
				s.end = s.termErr
				return nil, s.end
			}
		case <-s.closed:
			s.end = ErrClosed
			if err := s.ctx.Err(); err != nil {
				s.end = err
			}
			return nil, s.end
		}
	}
	switch {
	case m.Errnum == int32(syscall.ENODATA):
		s.end = io.EOF
		return nil, io.EOF
	case m.Errnum != 0:
		s.end = io.EOF
		return nil, remoteError(m)
	case m.Flags&FlagMore == 0:
		s.end = io.EOF
	}
	return m, nil
}

// Close stops delivery. Responses still in flight are discarded; the tag
// stays reserved until the server's final response, so it is not reused
// while the server may still answer on it.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.Lock()
		stop := s.stop
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
	})
}
