package overlay

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

const (
	// DefaultLinkTimeout bounds a whole link handshake.
	DefaultLinkTimeout = 10 * time.Second
	// DefaultHeartbeat is the yamux keepalive interval.
	DefaultHeartbeat = time.Second
	// maxHandshakes bounds the handshakes a LinkListener runs at once; a
	// connection beyond it is closed at once with a log line.
	maxHandshakes = 64
	// helloTopic is the topic of the first message on a link's control stream.
	helloTopic = "overlay.hello"
	// helloRole is the only role a link peer may announce.
	helloRole = "broker"
	// Stream ids: the dialer (yamux client) opens control, then bulk.
	controlStreamID = 1
	bulkStreamID    = 3
	// linkAcceptBacklog: the protocol has exactly two streams; yamux
	// resets any stream beyond this backlog instead of queueing it.
	linkAcceptBacklog = 4
)

// LinkConfig configures one end of a broker link.
type LinkConfig struct {
	Key       Key
	Session   string                           // session id; both ends must agree (checked in the proof and the hello)
	Rank      int32                            // this broker's rank
	Encrypt   bool                             // TLS 1.3 on the link (the broker turns it on by default)
	Timeout   time.Duration                    // whole handshake deadline; default 10s
	Heartbeat time.Duration                    // yamux keepalive interval; default 1s. A peer silent for ~3 heartbeats ends the link.
	Logf      func(format string, args ...any) // log lines for dropped peers; default log.Printf
}

func (c LinkConfig) withDefaults() LinkConfig {
	if c.Timeout <= 0 {
		c.Timeout = DefaultLinkTimeout
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Logf == nil {
		c.Logf = log.Printf
	}
	return c
}

func (c *LinkConfig) yamuxConfig() *yamux.Config {
	y := yamux.DefaultConfig()
	y.AcceptBacklog = linkAcceptBacklog
	y.EnableKeepAlive = true
	y.KeepAliveInterval = c.Heartbeat
	y.ConnectionWriteTimeout = 3 * c.Heartbeat
	y.StreamOpenTimeout = c.Timeout
	y.StreamCloseTimeout = c.Timeout
	// Link ends are reported through Link.Err and LinkConfig.Logf.
	y.LogOutput = io.Discard
	return y
}

// hello is the payload of the overlay.hello message each side sends first on
// the control stream.
// Fields are in key order, so the encoding has sorted keys.
type hello struct {
	Rank    int32  `msgpack:"rank"`
	Role    string `msgpack:"role"`
	Session string `msgpack:"session"`
	Version int    `msgpack:"version"`
}

// Link is an authenticated connection between two brokers: one TCP
// connection (TLS when encrypted) carrying a yamux session with two message
// streams. Control carries requests, responses and events; Bulk carries task
// output, so a flood on Bulk never delays Control (yamux gives each stream
// its own flow-control window).
//
// The owner must call Close, also after Done, to release the streams.
type Link struct {
	raw      net.Conn
	sess     *yamux.Session
	control  Conn
	bulk     Conn
	peerRank int32
	hb       time.Duration

	done      chan struct{} // closed by monitor when the session has ended
	closeOnce sync.Once

	mu      sync.Mutex // guards closing and err
	closing bool       // Close was called
	err     error      // why the link ended; set before done is closed
}

// PeerRank is the rank the peer announced in its hello.
func (l *Link) PeerRank() int32 { return l.peerRank }

// RemoteAddr is the peer's TCP address.
func (l *Link) RemoteAddr() net.Addr { return l.raw.RemoteAddr() }

// Control is the message stream for requests, responses and events.
func (l *Link) Control() Conn { return l.control }

// Bulk is the message stream for bulk data (task output).
func (l *Link) Bulk() Conn { return l.bulk }

// Ping asks the peer to answer at once (a yamux ping) and says how long it
// took; an error (within 3 heartbeats at most) means the peer did not
// answer: the link is dead even if its end has not been noticed yet.
func (l *Link) Ping() (time.Duration, error) { return l.sess.Ping() }

// Done is closed when the link is gone: the peer closed it, the connection
// broke, heartbeats stopped, or Close was called.
func (l *Link) Done() <-chan struct{} { return l.done }

// Err says why the link ended: ErrClosed after Close, otherwise an error
// wrapping ErrLinkLost. It is nil while the link is up.
func (l *Link) Err() error {
	select {
	case <-l.done:
	default:
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close flushes and closes both streams, then the connection, and waits until
// the link is down. The peer's Done fires soon after. Flushing to a peer that
// stopped reading is cut short after closeFlushTimeout. Close is idempotent.
func (l *Link) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closing = true
		l.mu.Unlock()
		// Ending the session makes every pending stream write fail at
		// once, so a frozen peer cannot hold Close for long.
		t := time.AfterFunc(closeFlushTimeout, func() { l.sess.Close() })
		l.control.Close()
		l.bulk.Close()
		t.Stop()
		l.sess.Close()
	})
	<-l.done
	return nil
}

// monitor accepts (and refuses) any stream the peer opens beyond the two of
// the protocol, and when the session ends records why and closes done.
func (l *Link) monitor() {
	var err error
	for {
		var st net.Conn
		st, err = l.sess.Accept()
		if err != nil {
			break
		}
		st.Close() // not part of the protocol
	}
	l.mu.Lock()
	if l.closing {
		l.err = ErrClosed
	} else {
		l.err = l.lostErr(err)
	}
	l.mu.Unlock()
	close(l.done)
}

// lostErr turns yamux's reason for ending a session into words.
func (l *Link) lostErr(err error) error {
	who := fmt.Sprintf("rank %d at %s", l.peerRank, l.raw.RemoteAddr())
	switch {
	case errors.Is(err, yamux.ErrKeepAliveTimeout):
		return fmt.Errorf("overlay: %w: %s stopped answering heartbeats (none for %v)", ErrLinkLost, who, 3*l.hb)
	case errors.Is(err, yamux.ErrConnectionWriteTimeout):
		return fmt.Errorf("overlay: %w: writes to %s stalled for %v", ErrLinkLost, who, 3*l.hb)
	case errors.Is(err, io.EOF), errors.Is(err, yamux.ErrSessionShutdown):
		return fmt.Errorf("overlay: %w: %s closed the link", ErrLinkLost, who)
	}
	return fmt.Errorf("overlay: %w: %s: %v", ErrLinkLost, who, err)
}

// DialLink connects to a parent broker at addr ("host:port") and runs the
// handshake as the dialing side. ctx and cfg.Timeout both bound the dial and
// the whole handshake.
func DialLink(ctx context.Context, addr string, cfg LinkConfig) (*Link, error) {
	cfg = cfg.withDefaults()
	limit := cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(dl).Round(time.Millisecond))
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("overlay: cannot reach the parent broker at %s: %w", addr, err)
	}
	l, err := handshake(ctx, raw, &cfg, true, limit)
	if err != nil {
		return nil, fmt.Errorf("overlay: link to %s: %w", addr, err)
	}
	return l, nil
}

// handshake runs the four steps of PROTOCOL.md "Broker links" on raw and
// returns the established link, or closes raw and returns why it failed.
// ctx bounds it: when ctx ends, raw is closed, which unblocks every step.
// limit is ctx's time budget, for the timeout message.
func handshake(ctx context.Context, raw net.Conn, cfg *LinkConfig, dialer bool, limit time.Duration) (link *Link, err error) {
	phase := "waiting for the peer's greeting"
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	var sess *yamux.Session
	defer func() {
		// If ctx ended the handshake, or ends it just as it succeeds,
		// raw is (being) closed: report the timeout, not the read error.
		if !stop() && err == nil {
			link.Close()
			link, err = nil, ctx.Err()
		}
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("%w after %v (%s)", ErrHandshakeTimeout, limit, phase)
			} else {
				err = fmt.Errorf("handshake abandoned (%s): %w", phase, ctx.Err())
			}
		}
		if sess != nil {
			sess.Close()
		}
		raw.Close()
	}()

	// 1. Challenge-response on the raw connection.
	if _, err := authenticate(raw, rand.Reader, &cfg.Key, cfg.Session, dialer, cfg.Encrypt); err != nil {
		return nil, err
	}

	// 2. TLS, if both ends asked for it (authenticate checked they agree).
	var conn net.Conn = raw
	if cfg.Encrypt {
		phase = "TLS handshake"
		id, err := instanceIdentity(&cfg.Key)
		if err != nil {
			return nil, err
		}
		var tc *tls.Conn
		if dialer {
			tc = tls.Client(raw, id.tlsConfig(true))
		} else {
			tc = tls.Server(raw, id.tlsConfig(false))
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("TLS handshake failed: %w", err)
		}
		conn = tc
	}

	// 3. yamux, with the dialer as client; it opens control, then bulk.
	phase = "opening the link's streams"
	var control, bulk net.Conn
	if dialer {
		if sess, err = yamux.Client(conn, cfg.yamuxConfig()); err != nil {
			return nil, err
		}
		if control, err = sess.OpenStream(); err == nil {
			bulk, err = sess.OpenStream()
		}
	} else {
		if sess, err = yamux.Server(conn, cfg.yamuxConfig()); err != nil {
			return nil, err
		}
		if control, err = acceptStream(ctx, sess, controlStreamID); err == nil {
			bulk, err = acceptStream(ctx, sess, bulkStreamID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening the link's streams: %w", err)
	}

	// 4. Hello on the control stream, both ways.
	phase = "waiting for the peer's hello"
	cc := newStreamConn(control, linkSendQueueLen, linkSendQueueBytes)
	bc := newStreamConn(bulk, linkSendQueueLen, linkSendQueueBytes)
	closeConns := func() { cc.Close(); bc.Close() }
	peer, err := exchangeHello(cc, cfg)
	if err != nil {
		closeConns()
		return nil, err
	}
	l := &Link{
		raw:      raw,
		sess:     sess,
		control:  cc,
		bulk:     bc,
		peerRank: peer.Rank,
		hb:       cfg.Heartbeat,
		done:     make(chan struct{}),
	}
	go l.monitor()
	return l, nil
}

// acceptStream accepts the next stream and checks it is the one the dialer
// must open next.
func acceptStream(ctx context.Context, sess *yamux.Session, want uint32) (net.Conn, error) {
	st, err := sess.AcceptStreamWithContext(ctx)
	if err != nil {
		return nil, err
	}
	if st.StreamID() != want {
		st.Close()
		return nil, fmt.Errorf("%w: the peer opened stream %d, expected %d", ErrBadHello, st.StreamID(), want)
	}
	return st, nil
}

// exchangeHello sends our hello and checks the peer's.
func exchangeHello(c Conn, cfg *LinkConfig) (hello, error) {
	m, err := NewRequest(helloTopic, hello{Version: ProtocolVersion, Role: helloRole, Rank: cfg.Rank, Session: cfg.Session})
	if err != nil {
		return hello{}, err
	}
	m.Src, m.Flags = cfg.Rank, FlagNoResponse
	if err := c.Send(m); err != nil {
		return hello{}, fmt.Errorf("sending the hello: %w", err)
	}
	pm, err := c.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return hello{}, errors.New("the peer closed the link before its hello")
		}
		return hello{}, fmt.Errorf("reading the peer's hello: %w", err)
	}
	if pm.Type != Request || pm.Topic != helloTopic {
		return hello{}, fmt.Errorf("%w: the peer's first message is %s %q, not a %s", ErrBadHello, pm.Type, pm.Topic, helloTopic)
	}
	var h hello
	if err := pm.Decode(&h); err != nil {
		return hello{}, fmt.Errorf("%w: %v", ErrBadHello, err)
	}
	switch {
	case h.Version != ProtocolVersion:
		return h, fmt.Errorf("%w: the peer speaks envelope protocol %d, this broker speaks %d", ErrBadHello, h.Version, ProtocolVersion)
	case h.Role != helloRole:
		return h, fmt.Errorf("%w: the peer's role is %q; only %q may link", ErrBadHello, h.Role, helloRole)
	case h.Rank < 0:
		return h, fmt.Errorf("%w: the peer announced rank %d", ErrBadHello, h.Rank)
	case h.Session != cfg.Session:
		return h, fmt.Errorf("%w: the peer belongs to session %q, this broker to %q", ErrSessionMismatch, h.Session, cfg.Session)
	}
	return h, nil
}

// LinkListener accepts broker links on a TCP address. Each connection is
// authenticated in its own goroutine, so a slow or silent peer never holds
// up another; at most maxHandshakes run at once.
type LinkListener struct {
	ln    net.Listener
	cfg   LinkConfig
	ready chan *Link    // authenticated links for Accept
	slots chan struct{} // one token per handshake in progress

	drops *dropLog // rate-limited "dropped" lines

	ctx    context.Context // ended by Close: aborts every handshake
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every handshake goroutine
	once   sync.Once
}

// ListenLinks listens for broker links on addr ("host:port"; ":0" picks a
// free port).
func ListenLinks(addr string, cfg LinkConfig) (*LinkListener, error) {
	return listenLinks(addr, cfg, maxHandshakes)
}

func listenLinks(addr string, cfg LinkConfig, limit int) (*LinkListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("overlay: cannot listen for broker links on %s: %w", addr, err)
	}
	return serveLinks(ln, cfg, limit), nil
}

// ServeLinks accepts broker links on a listener the caller bound already: a
// broker bootstrapped through PMI must publish its port before it knows the
// instance key.
func ServeLinks(ln net.Listener, cfg LinkConfig) *LinkListener {
	return serveLinks(ln, cfg, maxHandshakes)
}

func serveLinks(ln net.Listener, cfg LinkConfig, limit int) *LinkListener {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	l := &LinkListener{
		ln:     ln,
		cfg:    cfg,
		ready:  make(chan *Link),
		slots:  make(chan struct{}, limit),
		drops:  newDropLog(cfg.Logf),
		ctx:    ctx,
		cancel: cancel,
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// Addr is the address the listener is bound to.
func (l *LinkListener) Addr() net.Addr { return l.ln.Addr() }

// Accept returns the next authenticated link. Peers that fail the handshake
// are logged (address and reason) and never returned. After Close it returns
// ErrClosed.
func (l *LinkListener) Accept() (*Link, error) {
	select {
	case lk := <-l.ready:
		return lk, nil
	case <-l.ctx.Done():
		return nil, ErrClosed
	}
}

// Close stops listening, aborts the handshakes in progress and waits for
// them. Links already returned by Accept stay up.
func (l *LinkListener) Close() error {
	var err error
	l.once.Do(func() {
		l.cancel()
		err = l.ln.Close()
		l.wg.Wait()
	})
	return err
}

func (l *LinkListener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: wait and retry,
			// as net/http does, rather than spin or give up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.cfg.Logf("overlay: accepting broker links on %s: %v; retrying in %v", l.ln.Addr(), err, backoff)
			select {
			case <-time.After(backoff):
			case <-l.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		select {
		case l.slots <- struct{}{}:
		default:
			l.drops.drop(l.ln.Addr().String(), c.RemoteAddr().String(), fmt.Sprintf("%d link handshakes already in progress", cap(l.slots)))
			c.Close()
			continue
		}
		l.wg.Add(1)
		go l.serve(c)
	}
}

// serve authenticates one connection and hands the link to Accept.
func (l *LinkListener) serve(c net.Conn) {
	defer l.wg.Done()
	defer func() { <-l.slots }()
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.Timeout)
	lk, err := handshake(ctx, c, &l.cfg, false, l.cfg.Timeout)
	cancel()
	if err != nil {
		if l.ctx.Err() == nil {
			l.drops.drop(l.ln.Addr().String(), c.RemoteAddr().String(), err.Error())
		}
		return
	}
	select {
	case l.ready <- lk:
	case <-l.ctx.Done():
		lk.Close()
	}
}
