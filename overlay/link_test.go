package overlay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func modes() []struct {
	name    string
	encrypt bool
} {
	return []struct {
		name    string
		encrypt bool
	}{{"plain", false}, {"tls", true}}
}

// exchange sends one message each way on a and b and checks it arrives.
func exchange(t *testing.T, what string, a, b Conn) {
	t.Helper()
	for i, dir := range [][2]Conn{{a, b}, {b, a}} {
		m, _ := NewRequest("test.echo", map[string]any{"n": i, "what": what})
		if err := dir[0].Send(m); err != nil {
			t.Fatalf("%s: Send: %v", what, err)
		}
		got, err := dir[1].Recv()
		if err != nil {
			t.Fatalf("%s: Recv: %v", what, err)
		}
		var body struct {
			N    int    `msgpack:"n"`
			What string `msgpack:"what"`
		}
		if err := got.Decode(&body); err != nil || body.N != i || body.What != what {
			t.Fatalf("%s: got %v %+v (%v)", what, got, body, err)
		}
	}
}

func TestLinkHappyPath(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode.name, func(t *testing.T) {
			child, parent := linkPair(t, mode.encrypt, nil)
			if child.PeerRank() != 0 || parent.PeerRank() != 1 {
				t.Fatalf("PeerRank: child sees %d, parent sees %d; want 0 and 1", child.PeerRank(), parent.PeerRank())
			}
			if child.RemoteAddr().String() == "" || parent.RemoteAddr() == nil {
				t.Fatal("no RemoteAddr")
			}
			exchange(t, "control", child.Control(), parent.Control())
			exchange(t, "bulk", child.Bulk(), parent.Bulk())
			if child.Err() != nil {
				t.Fatalf("Err on a live link: %v", child.Err())
			}
		})
	}
}

// TestLinkBulkFloodDoesNotDelayControl: 50 MB on Bulk while Control round
// trips are timed.
func TestLinkBulkFloodDoesNotDelayControl(t *testing.T) {
	const total, chunk = 50 << 20, 1 << 20
	for _, mode := range modes() {
		t.Run(mode.name, func(t *testing.T) {
			child, parent := linkPair(t, mode.encrypt, nil)
			// Parent: echo Control, drain Bulk.
			go func() {
				for {
					m, err := parent.Control().Recv()
					if err != nil {
						return
					}
					r, _ := m.Respond(nil)
					parent.Control().Send(r)
				}
			}()
			got := make(chan int, 1)
			go func() {
				n := 0
				for n < total {
					m, err := parent.Bulk().Recv()
					if err != nil {
						break
					}
					n += len(m.Payload)
				}
				got <- n
			}()
			start := time.Now()
			floodDone := make(chan error, 1)
			go func() {
				payload := make([]byte, chunk)
				for i := 0; i < total/chunk; i++ {
					if err := child.Bulk().Send(&Msg{Type: Event, Topic: "task.output", Payload: rawBin(payload)}); err != nil {
						floodDone <- err
						return
					}
				}
				floodDone <- nil
			}()
			var rtts []time.Duration
			time.Sleep(20 * time.Millisecond) // let the flood get going
		loop:
			for {
				select {
				case n := <-got:
					if n < total {
						t.Fatalf("bulk received %d of %d bytes", n, total)
					}
					break loop
				default:
				}
				t0 := time.Now()
				if err := child.Control().Send(&Msg{Type: Request, Topic: "ping", Tag: 1}); err != nil {
					t.Fatal(err)
				}
				if _, err := child.Control().Recv(); err != nil {
					t.Fatal(err)
				}
				rtts = append(rtts, time.Since(t0))
				time.Sleep(2 * time.Millisecond)
			}
			if err := <-floodDone; err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			slices.Sort(rtts)
			p50, worst := rtts[len(rtts)/2], rtts[len(rtts)-1]
			t.Logf("%s: 50 MB bulk in %v (%.0f MB/s); %d control round trips during the flood: median %v, max %v",
				mode.name, el.Round(time.Millisecond), float64(total)/1e6/el.Seconds(), len(rtts), p50, worst)
			// Loose bounds: the machine is shared and may run -race.
			if p50 > 200*time.Millisecond || worst > time.Second {
				t.Errorf("control delayed by the bulk flood: median %v, max %v", p50, worst)
			}
		})
	}
}

// rawBin encodes b as a msgpack bin value.
func rawBin(b []byte) []byte {
	out := make([]byte, 5, 5+len(b))
	out[0] = 0xc6
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

func TestLinkWrongKey(t *testing.T) {
	rec := &logRec{}
	ln := listenTest(t, testLinkCfg(0, true, rec))
	cfg := testLinkCfg(1, true, nil)
	cfg.Key[0] ^= 1
	_, err := DialLink(context.Background(), ln.Addr().String(), cfg)
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("DialLink with a wrong key: %v, want ErrAuthFailed", err)
	}
	t.Logf("dialer: %v", err)
	line := rec.waitFor(t, 2*time.Second, "dropped 127.0.0.1:", "failed authentication (wrong instance key?)")
	t.Logf("listener: %s", line)
	checkStillServes(t, ln, rec)
}

// checkStillServes dials ln with the right key and expects a link.
func checkStillServes(t *testing.T, ln *LinkListener, rec *logRec) {
	t.Helper()
	acc := acceptAsync(ln)
	c, err := DialLink(context.Background(), ln.Addr().String(), testLinkCfg(7, ln.cfg.Encrypt, nil))
	if err != nil {
		t.Fatalf("a good peer after a bad one: %v; listener log:\n%s", err, rec.all())
	}
	defer c.Close()
	p := recvLink(t, acc, 3*time.Second)
	if p.PeerRank() != 7 {
		t.Fatalf("PeerRank %d", p.PeerRank())
	}
}

// rawPeer connects to ln, writes b, and returns what the listener sent
// before it closed the connection.
func rawPeer(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(b)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the listener kept the connection open")
	}
	return got
}

func TestLinkGarbage(t *testing.T) {
	rec := &logRec{}
	ln := listenTest(t, testLinkCfg(0, true, rec))
	random := make([]byte, 1024)
	rand.Read(random)
	random[0] = 'X' // not "F", whatever rand says
	cases := map[string][]byte{
		"random": random,
		"http":   []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
		"ssh":    []byte("SSH-2.0-OpenSSH_9.6\r\n"),
	}
	for name, b := range cases {
		got := rawPeer(t, ln.Addr().String(), b)
		if !bytes.HasPrefix(got, []byte(linkMagic)) || len(got) != greetingLen {
			t.Errorf("%s: the listener sent %d bytes %q, want only its %d-byte greeting", name, len(got), got, greetingLen)
		}
	}
	line := rec.waitFor(t, 2*time.Second, "dropped 127.0.0.1:", ": not a flux broker (bad preamble)")
	t.Logf("listener: %s", line)
	// One line for the first, the others summed up when the second ends.
	deadline := time.Now().Add(3 * time.Second)
	for droppedCount(rec.all(), "bad preamble") < len(cases) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := droppedCount(rec.all(), "bad preamble"); n != len(cases) {
		t.Errorf("%d bad-preamble drops logged for %d peers:\n%s", n, len(cases), rec.all())
	}
	checkStillServes(t, ln, rec)
}

// greeting builds a greeting with the given version and flags.
func greeting(version uint16, flags byte) []byte {
	g := make([]byte, greetingLen)
	copy(g, linkMagic)
	binary.BigEndian.PutUint16(g[8:], version)
	g[10] = flags
	rand.Read(g[12:])
	return g
}

func TestLinkOldVersion(t *testing.T) {
	rec := &logRec{}
	ln := listenTest(t, testLinkCfg(0, false, rec))
	for _, v := range []uint16{0, 2} {
		rawPeer(t, ln.Addr().String(), greeting(v, 0))
	}
	rec.waitFor(t, 2*time.Second, "dropped 127.0.0.1:", "speaks link protocol 0, this broker speaks 1")
	rec.waitFor(t, 2*time.Second, "speaks link protocol 2, this broker speaks 1")

	// The dialing side reports a listener of another version the same way.
	fake, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	go func() {
		c, err := fake.Accept()
		if err != nil {
			return
		}
		c.Write(greeting(9, 0))
		io.Copy(io.Discard, c)
		c.Close()
	}()
	_, err = DialLink(context.Background(), fake.Addr().String(), testLinkCfg(1, false, nil))
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Peer != 9 || ve.Ours != 1 {
		t.Fatalf("DialLink to a version-9 listener: %v", err)
	}
	checkStillServes(t, ln, rec)
}

// TestLinkSilentPeer: a peer that connects and sends nothing is dropped after
// Timeout, and a good peer connecting meanwhile gets through at once.
func TestLinkSilentPeer(t *testing.T) {
	rec := &logRec{}
	cfg := testLinkCfg(0, true, rec)
	cfg.Timeout = 600 * time.Millisecond
	ln := listenTest(t, cfg)
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		io.Copy(io.Discard, silent)
		closed <- time.Since(start)
	}()

	acc := acceptAsync(ln)
	t0 := time.Now()
	c, err := DialLink(context.Background(), ln.Addr().String(), testLinkCfg(1, true, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recvLink(t, acc, time.Second)
	if d := time.Since(t0); d > 400*time.Millisecond {
		t.Errorf("the good peer waited %v behind a silent one", d)
	}

	select {
	case d := <-closed:
		if d < 500*time.Millisecond || d > 3*time.Second {
			t.Errorf("silent peer dropped after %v, want about 600ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("silent peer never dropped")
	}
	line := rec.waitFor(t, time.Second, "dropped 127.0.0.1:", "handshake timed out after 600ms (waiting for the peer's greeting)")
	t.Logf("listener: %s", line)
}

func TestLinkSessionMismatch(t *testing.T) {
	rec := &logRec{}
	ln := listenTest(t, testLinkCfg(0, false, rec))
	cfg := testLinkCfg(1, false, nil)
	cfg.Session = "another-session"
	_, err := DialLink(context.Background(), ln.Addr().String(), cfg)
	// The session is part of the proof, so the mismatch shows at step 1.
	if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), `"another-session"`) {
		t.Fatalf("DialLink into another session: %v", err)
	}
	rec.waitFor(t, 2*time.Second, "dropped 127.0.0.1:", "failed authentication", `"test-session"`)
}

// TestHelloChecks drives exchangeHello directly: a peer that passed the
// proof but whose hello is wrong is refused with a clear reason.
func TestHelloChecks(t *testing.T) {
	base := testLinkCfg(0, false, nil)
	cases := []struct {
		name string
		peer *Msg
		want error
		text string
	}{
		{"session", helloMsg(t, hello{Version: ProtocolVersion, Role: "broker", Rank: 3, Session: "other"}), ErrSessionMismatch, `belongs to session "other", this broker to "test-session"`},
		{"role", helloMsg(t, hello{Version: ProtocolVersion, Role: "client", Rank: 3, Session: "test-session"}), ErrBadHello, `role is "client"`},
		{"version", helloMsg(t, hello{Version: 2, Role: "broker", Rank: 3, Session: "test-session"}), ErrBadHello, "envelope protocol 2"},
		{"rank", helloMsg(t, hello{Version: ProtocolVersion, Role: "broker", Rank: -1, Session: "test-session"}), ErrBadHello, "rank -1"},
		{"topic", &Msg{Type: Request, Topic: "job.submit"}, ErrBadHello, `"job.submit"`},
		{"no payload", &Msg{Type: Request, Topic: helloTopic}, ErrBadHello, "no payload"},
	}
	for _, tc := range cases {
		a, b := Pipe(4)
		b.Send(tc.peer)
		_, err := exchangeHello(a, &base)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v containing %q", tc.name, err, tc.want, tc.text)
		}
		a.Close()
	}
	a, b := Pipe(4)
	b.Send(helloMsg(t, hello{Version: ProtocolVersion, Role: "broker", Rank: 3, Session: "test-session"}))
	h, err := exchangeHello(a, &base)
	if err != nil || h.Rank != 3 {
		t.Fatalf("good hello: %+v %v", h, err)
	}
	m, _ := b.Recv()
	var mine hello
	if err := m.Decode(&mine); err != nil || m.Topic != helloTopic || m.Flags != FlagNoResponse || mine != (hello{Rank: 0, Role: "broker", Session: "test-session", Version: 1}) {
		t.Fatalf("our hello: %v %+v %v", m, mine, err)
	}
}

func helloMsg(t *testing.T, h hello) *Msg {
	m, err := NewRequest(helloTopic, h)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLinkEncryptMismatch(t *testing.T) {
	for _, listenerEncrypts := range []bool{true, false} {
		rec := &logRec{}
		ln := listenTest(t, testLinkCfg(0, listenerEncrypts, rec))
		_, err := DialLink(context.Background(), ln.Addr().String(), testLinkCfg(1, !listenerEncrypts, nil))
		if !errors.Is(err, ErrEncryptMismatch) {
			t.Fatalf("listener encrypt=%v, dialer not: %v", listenerEncrypts, err)
		}
		t.Logf("dialer: %v", err)
		rec.waitFor(t, 2*time.Second, "dropped 127.0.0.1:", "link encryption mismatch: this broker has link encryption "+onOff(listenerEncrypts))
	}
}

// TestLinkGarbageAfterAuth: a peer that holds the key but then speaks
// garbage instead of TLS/yamux is dropped, and the listener goes on.
func TestLinkGarbageAfterAuth(t *testing.T) {
	for _, mode := range modes() {
		rec := &logRec{}
		ln := listenTest(t, testLinkCfg(0, mode.encrypt, rec))
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := authenticate(c, rand.Reader, &testLinkKey, "test-session", true, mode.encrypt); err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, 4096)
		rand.Read(junk)
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c)
		c.Close()
		t.Logf("%s: %s", mode.name, rec.waitFor(t, 5*time.Second, "dropped 127.0.0.1:"))
		checkStillServes(t, ln, rec)
	}
}

// TestLinkHeartbeat freezes the connection in a proxy: both ends notice
// within a few heartbeats.
func TestLinkHeartbeat(t *testing.T) {
	const hb = 100 * time.Millisecond
	rec := &logRec{}
	pc := testLinkCfg(0, false, rec)
	pc.Heartbeat = hb
	ln := listenTest(t, pc)
	proxy := newStallProxy(t, ln.Addr().String())
	acc := acceptAsync(ln)
	cc := testLinkCfg(1, false, nil)
	cc.Heartbeat = hb
	child, err := DialLink(context.Background(), proxy.addr(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	parent := recvLink(t, acc, 2*time.Second)
	exchange(t, "before", child.Control(), parent.Control())

	// Several heartbeats pass on a healthy link without a drop.
	time.Sleep(5 * hb)
	if child.Err() != nil || parent.Err() != nil {
		t.Fatalf("healthy link dropped: %v / %v", child.Err(), parent.Err())
	}

	proxy.stalled.Store(true)
	start := time.Now()
	for name, lk := range map[string]*Link{"child": child, "parent": parent} {
		select {
		case <-lk.Done():
			d := time.Since(start)
			t.Logf("%s noticed after %v (%.1f heartbeats): %v", name, d.Round(time.Millisecond), float64(d)/float64(hb), lk.Err())
			if d > 8*hb {
				t.Errorf("%s took %v to notice, want about 4-5 heartbeats", name, d)
			}
			if !errors.Is(lk.Err(), ErrLinkLost) || !strings.Contains(lk.Err().Error(), "heartbeat") {
				t.Errorf("%s: Err = %v", name, lk.Err())
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s never noticed the frozen peer", name)
		}
	}
	if _, err := parent.Control().Recv(); err == nil {
		t.Fatal("Recv on a dead link succeeded")
	}
}

func TestLinkCloseEndsBoth(t *testing.T) {
	for _, mode := range modes() {
		for _, closer := range []string{"child", "parent"} {
			t.Run(mode.name+"/"+closer, func(t *testing.T) {
				child, parent := linkPair(t, mode.encrypt, nil)
				a, b := child, parent
				if closer == "parent" {
					a, b = parent, child
				}
				// A message sent just before Close is still delivered.
				m, _ := NewRequest("last.words", nil)
				if err := a.Control().Send(m); err != nil {
					t.Fatal(err)
				}
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				if !errors.Is(a.Err(), ErrClosed) {
					t.Errorf("closer's Err = %v, want ErrClosed", a.Err())
				}
				select {
				case <-b.Done():
				case <-time.After(2 * time.Second):
					t.Fatal("the peer's Done did not fire")
				}
				if !errors.Is(b.Err(), ErrLinkLost) || !strings.Contains(b.Err().Error(), "closed the link") {
					t.Errorf("peer's Err = %v", b.Err())
				}
				got, err := b.Control().Recv()
				if err != nil || got.Topic != "last.words" {
					t.Fatalf("last message: %v %v", got, err)
				}
				if _, err := b.Control().Recv(); err != io.EOF {
					t.Errorf("Recv after the peer closed: %v, want io.EOF", err)
				}
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				a.Close() // idempotent
			})
		}
	}
}

func TestLinkHandshakeLimit(t *testing.T) {
	rec := &logRec{}
	cfg := testLinkCfg(0, false, rec)
	cfg.Timeout = 5 * time.Second
	ln, err := listenLinks("127.0.0.1:0", cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
		// Wait for its greeting: its handshake is then in progress.
		if _, err := io.ReadFull(c, make([]byte, greetingLen)); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	extra := rawPeer(t, ln.Addr().String(), nil)
	if len(extra) != 0 || time.Since(t0) > time.Second {
		t.Fatalf("the third connection got %q after %v, want an immediate close", extra, time.Since(t0))
	}
	rec.waitFor(t, time.Second, "dropped 127.0.0.1:", "2 link handshakes already in progress")

	// Close aborts the handshakes in progress.
	ln.Close()
	for _, c := range held {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("held connection after Close: %v", err)
		}
	}
	if _, err := ln.Accept(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	if strings.Contains(rec.all(), "timed out") {
		t.Errorf("aborted handshakes logged as failures:\n%s", rec.all())
	}
}

func TestDialLinkContext(t *testing.T) {
	// A listener that accepts and stays silent: ctx ends the dial.
	fake, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	go func() {
		for {
			c, err := fake.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = DialLink(ctx, fake.Addr().String(), testLinkCfg(1, false, nil))
	if !errors.Is(err, ErrHandshakeTimeout) || !strings.Contains(err.Error(), "after 200ms") || time.Since(t0) > 2*time.Second {
		t.Fatalf("DialLink to a silent listener: %v after %v", err, time.Since(t0))
	}
	t.Logf("%v", err)

	cfg := testLinkCfg(1, false, nil)
	cfg.Timeout = 150 * time.Millisecond
	_, err = DialLink(context.Background(), fake.Addr().String(), cfg)
	if !errors.Is(err, ErrHandshakeTimeout) || !strings.Contains(err.Error(), "after 150ms") {
		t.Fatalf("DialLink with Timeout 150ms: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = DialLink(ctx, fake.Addr().String(), testLinkCfg(1, false, nil))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("DialLink canceled: %v", err)
	}

	if _, err := DialLink(context.Background(), "127.0.0.1:1", testLinkCfg(1, false, nil)); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("DialLink to a closed port: %v", err)
	}
}

// TestLinkCloseFrozenPeer: Close returns promptly even when the peer stopped
// reading with messages still queued.
func TestLinkCloseFrozenPeer(t *testing.T) {
	rec := &logRec{}
	ln := listenTest(t, testLinkCfg(0, false, rec))
	proxy := newStallProxy(t, ln.Addr().String())
	acc := acceptAsync(ln)
	child, err := DialLink(context.Background(), proxy.addr(), testLinkCfg(1, false, nil))
	if err != nil {
		t.Fatal(err)
	}
	recvLink(t, acc, 2*time.Second)
	proxy.stalled.Store(true)
	// Fill the window and the send queue behind it.
	big := &Msg{Type: Event, Topic: "task.output", Payload: rawBin(make([]byte, 1<<20))}
	for range 4 {
		go child.Bulk().Send(big)
	}
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	child.Close()
	if d := time.Since(t0); d > closeFlushTimeout+time.Second {
		t.Fatalf("Close took %v with a frozen peer", d)
	}
}
