package overlay

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logRec records LinkConfig.Logf lines.
type logRec struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRec) Logf(format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *logRec) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// waitFor waits until a logged line contains every one of subs.
func (r *logRec) waitFor(t testing.TB, d time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r.mu.Lock()
		for _, l := range r.lines {
			ok := true
			for _, s := range subs {
				ok = ok && strings.Contains(l, s)
			}
			if ok {
				r.mu.Unlock()
				return l
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no log line containing %q within %v; lines:\n%s", subs, d, r.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var testLinkKey = func() Key {
	var k Key
	for i := range k {
		k[i] = byte(i * 7)
	}
	return k
}()

func testLinkCfg(rank int32, encrypt bool, rec *logRec) LinkConfig {
	cfg := LinkConfig{Key: testLinkKey, Session: "test-session", Rank: rank, Encrypt: encrypt, Timeout: 3 * time.Second}
	if rec != nil {
		cfg.Logf = rec.Logf
	}
	return cfg
}

func listenTest(t testing.TB, cfg LinkConfig) *LinkListener {
	t.Helper()
	ln, err := ListenLinks("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// acceptAsync runs Accept in the background.
func acceptAsync(ln *LinkListener) <-chan *Link {
	ch := make(chan *Link, 1)
	go func() {
		lk, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- lk
	}()
	return ch
}

func recvLink(t testing.TB, ch <-chan *Link, d time.Duration) *Link {
	t.Helper()
	select {
	case lk, ok := <-ch:
		if !ok {
			t.Fatal("Accept failed")
		}
		t.Cleanup(func() { lk.Close() })
		return lk
	case <-time.After(d):
		t.Fatalf("no link accepted within %v", d)
	}
	return nil
}

// linkPair returns a dialed link (rank 1, child) and the accepted one (rank 0, parent).
func linkPair(t testing.TB, encrypt bool, mod func(child, parent *LinkConfig)) (child, parent *Link) {
	t.Helper()
	rec := &logRec{}
	pc, cc := testLinkCfg(0, encrypt, rec), testLinkCfg(1, encrypt, rec)
	if mod != nil {
		mod(&cc, &pc)
	}
	ln := listenTest(t, pc)
	acc := acceptAsync(ln)
	c, err := DialLink(context.Background(), ln.Addr().String(), cc)
	if err != nil {
		t.Fatalf("DialLink: %v (listener log: %s)", err, rec.all())
	}
	t.Cleanup(func() { c.Close() })
	return c, recvLink(t, acc, 5*time.Second)
}

// stallProxy forwards one TCP connection to target and can stop forwarding
// (without closing anything), to freeze a peer as SIGSTOP would.
type stallProxy struct {
	ln      net.Listener
	stalled atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func newStallProxy(t testing.TB, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	t.Cleanup(p.close)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go p.pump(in, out)
			go p.pump(out, in)
		}
	}()
	return p
}

func (p *stallProxy) pump(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.stalled.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && err == io.EOF {
				tc.CloseWrite()
			}
			return
		}
	}
}

func (p *stallProxy) close() {
	p.stalled.Store(false)
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }
