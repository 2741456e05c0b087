package overlay

// Conn is a bidirectional message connection. Send may be called from several
// goroutines at once; Recv from one goroutine only. After Close (or the peer's
// close) Recv returns ErrClosed (this side closed) or io.EOF (the peer did),
// and Send returns ErrClosed or the error that broke the connection.
//
// Send hands the message over and may return before it is on the wire; the
// sender must not modify the message afterwards (Pipe passes the pointer
// itself).
type Conn interface {
	Send(m *Msg) error
	Recv() (*Msg, error)
	Close() error
}
