package overlay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"
)

// socketPair returns the two ends of a connected unix stream socketpair.
func socketPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), fmt.Sprintf("socketpair-%d", i))
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}

func testMsgs(t testing.TB) []*Msg {
	return []*Msg{
		{Type: Request, Topic: "job.submit", Src: -1, Dst: -1, Tag: 1, Payload: mustPayload(t, []string{"a", "b"})},
		{Type: Response, Topic: "job.submit", Dst: -1, Tag: 1, Flags: FlagMore, Payload: mustPayload(t, make([]byte, 100000))},
		{Type: Response, Topic: "job.submit", Dst: -1, Tag: 1, Errnum: int32(syscall.ENODATA)},
		{Type: Event, Topic: "shutdown"},
	}
}

func TestStreamConnRoundTrip(t *testing.T) {
	transports := []struct {
		name string
		pair func(t testing.TB) (net.Conn, net.Conn)
	}{
		{"net.Pipe", func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() }},
		{"socketpair", socketPair},
		{"one byte per read", func(t testing.TB) (net.Conn, net.Conn) {
			a, b := socketPair(t)
			return a, slowReadConn{b}
		}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			x, y := tr.pair(t)
			a, b := NewStreamConn(x), NewStreamConn(y)
			defer a.Close()
			defer b.Close()
			want := testMsgs(t)
			go func() {
				for _, m := range want {
					if err := a.Send(m); err != nil {
						t.Error(err)
					}
				}
			}()
			for i, w := range want {
				got, err := b.Recv()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, w) {
					t.Fatalf("message %d: got %v want %v", i, got, w)
				}
			}
		})
	}
}

// TestStreamConnConcurrentSenders: frames from many goroutines never
// interleave, and each sender's messages arrive in its order.
func TestStreamConnConcurrentSenders(t *testing.T) {
	x, y := socketPair(t)
	a, b := NewStreamConn(x), NewStreamConn(y)
	defer a.Close()
	defer b.Close()
	const senders, each = 8, 500
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := a.Send(&Msg{Type: Event, Src: int32(s), Tag: uint32(i), Payload: mustPayload(t, make([]byte, 1+i%300))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	next := make([]uint32, senders)
	for n := 0; n < senders*each; n++ {
		m, err := b.Recv()
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		if m.Tag != next[m.Src] {
			t.Fatalf("sender %d: got tag %d, want %d", m.Src, m.Tag, next[m.Src])
		}
		next[m.Src]++
	}
	wg.Wait()
}

func TestStreamConnCloseFlushesAndEOF(t *testing.T) {
	x, y := socketPair(t)
	a, b := NewStreamConn(x), NewStreamConn(y)
	defer b.Close()
	const n = 100
	for i := 0; i < n; i++ {
		if err := a.Send(&Msg{Type: Event, Tag: uint32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	for i := 0; i < n; i++ {
		m, err := b.Recv()
		if err != nil || m.Tag != uint32(i) {
			t.Fatalf("message %d after Close: %v %v (Close must flush queued frames)", i, m, err)
		}
	}
	if _, err := b.Recv(); err != io.EOF {
		t.Fatalf("Recv after peer close: %v, want io.EOF", err)
	}
	if _, err := b.Recv(); err != io.EOF {
		t.Fatalf("second Recv after peer close: %v, want io.EOF again", err)
	}
	if err := a.Send(&Msg{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if _, err := a.Recv(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv after Close: %v, want ErrClosed", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestStreamConnCloseUnblocksRecv(t *testing.T) {
	x, y := socketPair(t)
	defer y.Close()
	a := NewStreamConn(x)
	stuck, res := blocked(func() error { _, err := a.Recv(); return err })
	if !stuck {
		t.Fatalf("Recv with nothing sent returned %v", <-res)
	}
	a.Close()
	select {
	case err := <-res:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv still blocked after Close")
	}
}

// TestStreamConnBackPressure: with a peer that does not read, Send blocks
// once the queue is full, resumes when the peer reads, and Close does not
// hang on the stuck peer.
func TestStreamConnBackPressure(t *testing.T) {
	x, y := net.Pipe() // unbuffered: the writer blocks on its first write
	a := NewStreamConn(x).(*streamConn)
	a.flushTimeout = 100 * time.Millisecond
	m := &Msg{Type: Event, Topic: "fill"}
	// The writer takes frames into its bufio buffer until a flush blocks on
	// the stalled peer; after that the queue fills and Send must block.
	var res <-chan error
	sent := 0
	for ; sent < sendQueueLen+10000; sent++ {
		var stuck bool
		if stuck, res = blocked(func() error { return a.Send(m) }); stuck {
			break
		}
	}
	if sent < sendQueueLen || sent >= sendQueueLen+10000 {
		t.Fatalf("Send blocked after %d messages; want the %d-frame queue (plus what the writer holds) to bound it", sent, sendQueueLen)
	}
	b := NewStreamConn(y)
	if _, err := b.Recv(); err != nil {
		t.Fatal(err)
	}
	// Reading drains the queue; the blocked Send completes.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < sent; i++ {
			if _, err := b.Recv(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send still blocked after the peer read")
	}
	<-done

	// Now stall the peer again and fill: Close must still return promptly.
	for i := 0; i < sendQueueLen+1; i++ {
		a.Send(m)
	}
	start := time.Now()
	a.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v with a stuck peer", d)
	}
	b.Close()
}

func TestStreamConnRejectsBadFrames(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
		want  error
	}{
		{"oversize length", []byte{0x01, 0x00, 0x00, 0x01}, ErrFrameTooLarge},
		{"garbage body", []byte{0, 0, 0, 3, 0x93, 1, 2}, nil},
		{"cut short", []byte{0, 0, 0, 9, 0x81}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := socketPair(t)
			defer y.Close()
			b := NewStreamConn(x)
			defer b.Close()
			y.Write(tt.bytes)
			if tt.want == io.ErrUnexpectedEOF {
				y.Close()
			}
			_, err := b.Recv()
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Recv: %v, want %v", err, tt.want)
			}
			if _, err2 := b.Recv(); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second Recv: %v, want the same error again", err2)
			}
			if tt.want == io.ErrUnexpectedEOF {
				return
			}
			// A protocol violation drops the connection: the peer sees EOF.
			y.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := y.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("peer read %d, %v after a bad frame; want EOF", n, err)
			}
			if err := b.Send(&Msg{}); err == nil {
				t.Fatal("Send works on a connection dropped for a bad frame")
			}
		})
	}
}

func TestStreamConnSendTooLarge(t *testing.T) {
	x, y := socketPair(t)
	defer y.Close()
	a := NewStreamConn(x)
	defer a.Close()
	p := mustPayload(t, make([]byte, MaxFrame))
	if err := a.Send(&Msg{Type: Event, Payload: p}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Send: %v, want ErrFrameTooLarge", err)
	}
	// The connection is still usable: the error was the caller's.
	if err := a.Send(&Msg{Type: Event}); err != nil {
		t.Fatalf("Send after a refused message: %v", err)
	}
}
