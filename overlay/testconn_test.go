package overlay

import (
	"io"
	"net"
	"sync"
	"time"
)

// oneByteReader returns at most one byte per Read, to split every frame
// across as many reads as possible.
type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// fakeConn is a net.Conn that reads from r and discards writes.
type fakeConn struct {
	r      io.Reader
	mu     sync.Mutex
	closed bool
}

func (f *fakeConn) Read(p []byte) (int, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	return f.r.Read(p)
}
func (f *fakeConn) Write(p []byte) (int, error) { return len(p), nil }
func (f *fakeConn) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}
func (f *fakeConn) LocalAddr() net.Addr              { return &net.UnixAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr             { return &net.UnixAddr{} }
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// slowReadConn wraps a net.Conn so each Read returns at most one byte.
type slowReadConn struct{ net.Conn }

func (s slowReadConn) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return s.Conn.Read(p)
}
