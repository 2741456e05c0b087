package overlay

import (
	"io"
	"sync"
	"sync/atomic"
)

// Pipe returns the two ends of an in-process connection, used when the
// capacitor boots its own instance. Messages pass as *Msg pointers without
// encoding, so a sender must not modify a message after Send. Each direction
// is a channel of buf messages: Send blocks while it is full (that is the
// back-pressure) and fails with ErrClosed once either end is closed. Recv on
// an end whose peer closed first returns the messages already queued, then
// io.EOF; Recv on a closed end returns ErrClosed.
func Pipe(buf int) (Conn, Conn) {
	if buf < 0 {
		buf = 0
	}
	sh := &pipeShared{done: make(chan struct{})}
	ab := make(chan *Msg, buf)
	ba := make(chan *Msg, buf)
	a := &pipeEnd{sh: sh, in: ba, out: ab}
	b := &pipeEnd{sh: sh, in: ab, out: ba}
	return a, b
}

// pipeShared is the state both ends watch: done is closed (once) when either
// end closes, which releases every blocked Send and Recv.
type pipeShared struct {
	once sync.Once
	done chan struct{}
}

type pipeEnd struct {
	sh     *pipeShared
	in     <-chan *Msg
	out    chan<- *Msg
	closed atomic.Bool // this end called Close
}

func (p *pipeEnd) Send(m *Msg) error {
	// Check first: select picks at random among ready cases, and a send must
	// not succeed into a pipe that is already closed.
	select {
	case <-p.sh.done:
		return ErrClosed
	default:
	}
	select {
	case p.out <- m:
		return nil
	case <-p.sh.done:
		return ErrClosed
	}
}

func (p *pipeEnd) Recv() (*Msg, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	select {
	case m := <-p.in:
		return m, nil
	case <-p.sh.done:
	}
	if p.closed.Load() {
		return nil, ErrClosed
	}
	// The peer closed: hand over what it queued before closing.
	select {
	case m := <-p.in:
		return m, nil
	default:
		return nil, io.EOF
	}
}

func (p *pipeEnd) Close() error {
	p.closed.Store(true)
	p.sh.once.Do(func() { close(p.sh.done) })
	return nil
}
