package overlay

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// sendQueueLen bounds the frames waiting for the writer goroutine; Send
	// blocks while the queue is full, which pushes back on the producer.
	sendQueueLen = 1024
	// linkSendQueueLen and linkSendQueueBytes bound what waits for a broker
	// link's writer. The broker's loop never blocks on a peer: it calls
	// TrySend, which fails with ErrSendQueueFull past either bound, and
	// treats the peer as lost (see broker/doc.go).
	linkSendQueueLen   = 4096
	linkSendQueueBytes = 64 << 20
	// closeFlushTimeout bounds how long Close waits to flush queued frames
	// to a peer that stopped reading.
	closeFlushTimeout = 2 * time.Second
	// keepFrameBuf: frame buffers larger than this are not kept for reuse, so
	// one 16 MiB message does not pin 16 MiB for the connection's life.
	keepFrameBuf = 64 << 10
)

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func putFrame(bp *[]byte) {
	if cap(*bp) <= keepFrameBuf {
		framePool.Put(bp)
	}
}

// NewStreamConn frames messages over a byte stream (a unix socket today, a
// yamux stream later). Send encodes in the caller's goroutine (so an encoding
// error is returned to the caller) and queues the frame; one writer goroutine
// writes queued frames through a bufio.Writer and flushes only when the queue
// is empty, so a burst becomes a few large writes. Recv reads and decodes in
// the caller's goroutine through a bufio.Reader. A malformed or oversize frame
// from the peer is fatal: Recv returns the error and the connection closes.
// Close flushes frames already queued (for at most closeFlushTimeout), then
// closes c.
func NewStreamConn(c net.Conn) Conn { return newStreamConn(c, sendQueueLen, 0) }

// newStreamConn is NewStreamConn with the send queue's bounds: qlen frames
// and (when maxBytes > 0) maxBytes queued bytes, past which TrySend fails.
func newStreamConn(c net.Conn, qlen int, maxBytes int64) *streamConn {
	s := &streamConn{
		c:          c,
		maxBytes:   maxBytes,
		r:          bufio.NewReaderSize(c, 64<<10),
		q:          make(chan *[]byte, qlen),
		shutdown:   make(chan struct{}),
		writerDone: make(chan struct{}),

		flushTimeout: closeFlushTimeout,
	}
	go s.writeLoop()
	return s
}

type streamConn struct {
	c net.Conn

	// Receive side: only the goroutine calling Recv touches these.
	r    *bufio.Reader
	rbuf []byte // reused frame body buffer
	rerr error  // sticky: once Recv failed it keeps failing

	q          chan *[]byte  // encoded frames for the writer
	shutdown   chan struct{} // closed once: Close was called or the connection broke
	writerDone chan struct{} // closed when the writer goroutine has returned

	// flushTimeout is closeFlushTimeout; tests shorten it before Close.
	flushTimeout time.Duration

	maxBytes int64        // TrySend's bound on queued bytes; 0: none
	queued   atomic.Int64 // bytes in q, not yet handed to the writer's buffer

	mu      sync.Mutex     // guards closed, local, err, and senders.Add
	closed  bool           // shutdown has been (or is being) closed
	local   bool           // this side called Close
	err     error          // what Send returns after shutdown: ErrClosed or the fatal error
	senders sync.WaitGroup // Sends between their closed check and their enqueue
}

func (s *streamConn) Send(m *Msg) error { return s.send(m, true) }

// TrySend is Send that never waits: when the send queue is full (in frames,
// or in bytes for a broker link) it returns ErrSendQueueFull and the message
// is not sent. Callers that must never block (the broker loop) use it.
func (s *streamConn) TrySend(m *Msg) error { return s.send(m, false) }

func (s *streamConn) send(m *Msg, wait bool) error {
	bp := framePool.Get().(*[]byte)
	b, err := EncodeFrame((*bp)[:0], m)
	*bp = b
	if err != nil {
		putFrame(bp)
		return err
	}
	s.mu.Lock()
	if s.closed {
		err := s.err
		s.mu.Unlock()
		putFrame(bp)
		return err
	}
	// Registered under mu, so the writer's senders.Wait after shutdown sees
	// every Send that may still enqueue: no frame is queued after the final
	// drain and silently dropped.
	s.senders.Add(1)
	s.mu.Unlock()
	defer s.senders.Done()
	n := int64(len(*bp))
	if !wait {
		if s.maxBytes > 0 && s.queued.Load()+n > s.maxBytes {
			putFrame(bp)
			return ErrSendQueueFull
		}
		s.queued.Add(n)
		select {
		case s.q <- bp:
			return nil
		case <-s.shutdown:
			s.queued.Add(-n)
			putFrame(bp)
			return s.shutdownErr()
		default:
			s.queued.Add(-n)
			putFrame(bp)
			return ErrSendQueueFull
		}
	}
	s.queued.Add(n)
	select {
	case s.q <- bp:
		return nil
	case <-s.shutdown:
		s.queued.Add(-n)
		putFrame(bp)
		return s.shutdownErr()
	}
}

// TrySend sends m on c without waiting when c supports it (a stream
// connection, a broker link's streams); otherwise it is c.Send.
func TrySend(c Conn, m *Msg) error {
	if t, ok := c.(interface{ TrySend(*Msg) error }); ok {
		return t.TrySend(m)
	}
	return c.Send(m)
}

func (s *streamConn) shutdownErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *streamConn) Recv() (*Msg, error) {
	if s.rerr != nil {
		return nil, s.rerr
	}
	m, err := s.recv()
	if err != nil {
		s.mu.Lock()
		local, fatal := s.local, s.err
		s.mu.Unlock()
		switch {
		case local:
			err = ErrClosed
		case fatal != nil && errors.Is(err, net.ErrClosed):
			// The writer broke the connection; say why, not that the
			// socket was closed under us.
			err = fatal
		}
		s.rerr = err
		return nil, err
	}
	return m, nil
}

func (s *streamConn) recv() (*Msg, error) {
	buf, err := readFrame(s.r, s.rbuf)
	if cap(buf) <= keepFrameBuf {
		s.rbuf = buf[:0]
	} else {
		s.rbuf = nil
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrFrameTooLarge):
		// The stream cannot be resynchronised: drop the connection.
		s.fail(err)
		return nil, err
	default:
		return nil, err // io.EOF: the peer closed between frames
	}
	m, err := DecodeMsg(buf)
	if err != nil {
		s.fail(err)
		return nil, err
	}
	return m, nil
}

func (s *streamConn) Close() error {
	s.mu.Lock()
	first := !s.closed
	s.local = true
	if first {
		s.closed = true
		s.err = ErrClosed
	}
	s.mu.Unlock()
	if first {
		// Unblocks a writer stuck on a peer that stopped reading.
		s.c.SetWriteDeadline(time.Now().Add(s.flushTimeout))
		close(s.shutdown)
	}
	<-s.writerDone
	return nil
}

// fail shuts the connection down because of err; only the first error is kept.
func (s *streamConn) fail(err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.err = err
	s.mu.Unlock()
	close(s.shutdown)
}

func (s *streamConn) writeLoop() {
	defer close(s.writerDone)
	defer s.c.Close()
	w := bufio.NewWriterSize(s.c, 64<<10)
	for {
		select {
		case bp := <-s.q:
			if err := s.writeBatch(w, bp); err != nil {
				s.fail(err)
				return
			}
		case <-s.shutdown:
			// Every Send that passed the closed check has enqueued or
			// given up; flush what is queued, then close.
			s.senders.Wait()
			s.c.SetWriteDeadline(time.Now().Add(s.flushTimeout))
			s.drain(w)
			w.Flush()
			return
		}
	}
}

// drain writes the frames still queued at shutdown, without waiting for more.
func (s *streamConn) drain(w *bufio.Writer) {
	for {
		select {
		case bp := <-s.q:
			s.queued.Add(-int64(len(*bp)))
			_, err := w.Write(*bp)
			putFrame(bp)
			if err != nil {
				return
			}
		default:
			return
		}
	}
}

// writeBatch writes bp and every frame queued behind it, then flushes once.
func (s *streamConn) writeBatch(w *bufio.Writer, bp *[]byte) error {
	for {
		s.queued.Add(-int64(len(*bp)))
		_, err := w.Write(*bp)
		putFrame(bp)
		if err != nil {
			return err
		}
		select {
		case bp = <-s.q:
		default:
			return w.Flush()
		}
	}
}

var _ Conn = (*streamConn)(nil)
