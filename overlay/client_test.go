package overlay

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// newTestClient returns a Client and the server end of its connection.
func newTestClient(t *testing.T) (*Client, Conn) {
	t.Helper()
	a, b := Pipe(64)
	c := NewClient(a)
	t.Cleanup(func() { c.Close(); b.Close() })
	return c, b
}

// recvN reads n requests on the server end.
func recvN(t *testing.T, srv Conn, n int) []*Msg {
	t.Helper()
	var out []*Msg
	for i := 0; i < n; i++ {
		m, err := srv.Recv()
		if err != nil {
			t.Errorf("server Recv: %v", err)
			return out
		}
		out = append(out, m)
	}
	return out
}

func respond(t *testing.T, srv Conn, m *Msg) {
	t.Helper()
	if err := srv.Send(m); err != nil {
		t.Errorf("server Send: %v", err)
	}
}

// TestClientOutOfOrder: concurrent RPCs, answered in reverse order, each get
// their own answer.
func TestClientOutOfOrder(t *testing.T) {
	c, srv := newTestClient(t)
	const n = 50
	go func() {
		reqs := recvN(t, srv, n)
		for i := len(reqs) - 1; i >= 0; i-- {
			var x int
			reqs[i].Decode(&x)
			resp, _ := reqs[i].Respond(x * 10)
			respond(t, srv, resp)
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got int
			if err := c.RPC(context.Background(), "mul", i, &got); err != nil {
				t.Errorf("RPC %d: %v", i, err)
			} else if got != i*10 {
				t.Errorf("RPC %d got %d: answer matched to the wrong call", i, got)
			}
		}()
	}
	wg.Wait()
}

func TestClientRPCResults(t *testing.T) {
	c, srv := newTestClient(t)
	go func() {
		for {
			req, err := srv.Recv()
			if err != nil {
				return
			}
			if req.Flags != 0 || req.Tag == 0 || req.Src != AnyRank {
				t.Errorf("request envelope: %v", req)
			}
			switch req.Topic {
			case "ok":
				resp, _ := req.Respond("fine")
				srv.Send(resp)
			case "empty":
				resp, _ := req.Respond(nil)
				srv.Send(resp)
			case "missing":
				srv.Send(req.RespondError(syscall.ENOENT, "job 12 not found"))
			}
		}
	}()
	ctx := context.Background()
	var s string
	if err := c.RPC(ctx, "ok", nil, &s); err != nil || s != "fine" {
		t.Fatalf("RPC ok: %q %v", s, err)
	}
	if err := c.RPC(ctx, "empty", nil, nil); err != nil {
		t.Fatalf("RPC with nil resp: %v", err)
	}
	if err := c.RPC(ctx, "empty", nil, &s); !errors.Is(err, ErrNoPayload) {
		t.Fatalf("RPC decoding an empty payload: %v, want ErrNoPayload", err)
	}
	err := c.RPC(ctx, "missing", nil, &s)
	var re *RemoteError
	if !errors.As(err, &re) || re.Errnum != syscall.ENOENT || err.Error() != "job 12 not found" {
		t.Fatalf("error response: %v, want *RemoteError ENOENT", err)
	}
	if err := c.RPC(ctx, "ok", make(chan int), nil); err == nil || errors.As(err, &re) {
		t.Fatalf("unencodable request: %v", err)
	}
}

func TestClientGoCalledOnce(t *testing.T) {
	c, srv := newTestClient(t)
	var calls atomic.Int32
	done := make(chan *Msg, 2)
	if err := c.Go("x", 1, func(m *Msg, err error) {
		calls.Add(1)
		if err != nil {
			t.Errorf("done: %v", err)
		}
		done <- m
	}); err != nil {
		t.Fatal(err)
	}
	req := recvN(t, srv, 1)[0]
	resp, _ := req.Respond(2)
	respond(t, srv, resp)
	respond(t, srv, resp) // a duplicate must not complete the call again
	m := <-done
	if m.Tag != req.Tag {
		t.Fatalf("done got tag %d, want %d", m.Tag, req.Tag)
	}
	c.Close()
	if n := calls.Load(); n != 1 {
		t.Fatalf("done called %d times", n)
	}
}

func TestClientContextAbandonsCall(t *testing.T) {
	c, srv := newTestClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := c.RPC(ctx, "slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RPC: %v, want DeadlineExceeded", err)
	}
	slow := recvN(t, srv, 1)[0]
	// While the slow call's answer is outstanding its tag is not reused.
	go func() {
		req := recvN(t, srv, 1)[0]
		if req.Tag == slow.Tag {
			t.Errorf("tag %d reused while its response is still due", req.Tag)
		}
		late, _ := slow.Respond("late")
		respond(t, srv, late)
		resp, _ := req.Respond("mine")
		respond(t, srv, resp)
	}()
	var s string
	if err := c.RPC(context.Background(), "next", nil, &s); err != nil || s != "mine" {
		t.Fatalf("RPC after an abandoned call: %q %v", s, err)
	}
}

func TestClientTagsSkipZero(t *testing.T) {
	c, srv := newTestClient(t)
	c.mu.Lock()
	c.nextTag = math.MaxUint32 - 1
	c.mu.Unlock()
	for range 3 {
		c.Go("x", nil, func(*Msg, error) {})
	}
	var tags []uint32
	for _, m := range recvN(t, srv, 3) {
		tags = append(tags, m.Tag)
	}
	if tags[0] != math.MaxUint32 || tags[1] != 1 || tags[2] != 2 {
		t.Fatalf("tags %v, want [%d 1 2]", tags, uint32(math.MaxUint32))
	}
}

func TestClientStream(t *testing.T) {
	tests := []struct {
		name    string
		final   func(req *Msg) *Msg
		wantN   int   // responses returned by Recv
		wantErr error // what ends the stream (after wantN responses)
	}{
		{"final response", func(req *Msg) *Msg { m, _ := req.Respond(99); return m }, 4, io.EOF},
		{"ENODATA", func(req *Msg) *Msg { return req.RespondError(syscall.ENODATA, "") }, 3, io.EOF},
		{"error", func(req *Msg) *Msg { return req.RespondError(syscall.EPERM, "not yours") }, 3, syscall.EPERM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newTestClient(t)
			s, err := c.Stream(context.Background(), "job.wait", nil)
			if err != nil {
				t.Fatal(err)
			}
			req := recvN(t, srv, 1)[0]
			if req.Flags&FlagStreaming == 0 {
				t.Fatalf("stream request without FlagStreaming: %v", req)
			}
			for i := 0; i < 3; i++ {
				m, _ := req.Respond(i)
				m.Flags |= FlagMore
				respond(t, srv, m)
			}
			respond(t, srv, tt.final(req))
			n := 0
			for {
				m, err := s.Recv()
				if err != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("stream ended with %v, want %v", err, tt.wantErr)
					}
					break
				}
				var x int
				m.Decode(&x)
				if want := []int{0, 1, 2, 99}[n]; x != want {
					t.Fatalf("response %d = %d, want %d", n, x, want)
				}
				n++
			}
			if n != tt.wantN {
				t.Fatalf("%d responses, want %d", n, tt.wantN)
			}
			if _, err := s.Recv(); err != io.EOF {
				t.Fatalf("Recv after the end: %v, want io.EOF", err)
			}
			c.mu.Lock()
			left := len(c.pending)
			c.mu.Unlock()
			if left != 0 {
				t.Fatalf("%d calls still pending after the stream ended", left)
			}
		})
	}
}

// TestClientStreamCancel: a cancelled stream returns ctx.Err, and responses
// that keep coming do not block the connection for other calls.
func TestClientStreamCancel(t *testing.T) {
	c, srv := newTestClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Stream(ctx, "job.wait", nil)
	if err != nil {
		t.Fatal(err)
	}
	req := recvN(t, srv, 1)[0]
	cancel()
	if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv after cancel: %v", err)
	}
	go func() {
		for i := 0; i < streamBuffer+100; i++ { // more than the stream buffer holds
			m, _ := req.Respond(i)
			m.Flags |= FlagMore
			srv.Send(m)
		}
		other := recvN(t, srv, 1)[0]
		resp, _ := other.Respond("ok")
		srv.Send(resp)
	}()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := c.RPC(ctx2, "other", nil, nil); err != nil {
		t.Fatalf("RPC behind an abandoned stream: %v", err)
	}
}

// TestClientConnectionDrop: every pending call fails at once with a transport
// error, not a *RemoteError, and later calls fail immediately.
func TestClientConnectionDrop(t *testing.T) {
	for _, how := range []string{"peer closes", "client closes"} {
		t.Run(how, func(t *testing.T) {
			c, srv := newTestClient(t)
			const n = 10
			errs := make(chan error, n+1)
			for i := 0; i < n; i++ {
				go func() { errs <- c.RPC(context.Background(), "hang", i, nil) }()
			}
			s, err := c.Stream(context.Background(), "job.wait", nil)
			if err != nil {
				t.Fatal(err)
			}
			recvN(t, srv, n+1)
			if how == "peer closes" {
				srv.Close()
			} else {
				c.Close()
			}
			var re *RemoteError
			check := func(err error) {
				t.Helper()
				if err == nil || errors.As(err, &re) {
					t.Fatalf("pending call ended with %v, want a transport error", err)
				}
				if how == "peer closes" && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
				}
				if how == "client closes" && !errors.Is(err, ErrClosed) {
					t.Fatalf("got %v, want ErrClosed", err)
				}
			}
			for i := 0; i < n; i++ {
				select {
				case err := <-errs:
					check(err)
				case <-time.After(5 * time.Second):
					t.Fatal("a pending call is still waiting after the connection dropped")
				}
			}
			_, err = s.Recv()
			if err == io.EOF {
				t.Fatal("a stream cut by a lost connection reported a clean io.EOF")
			}
			check(err)
			check(c.RPC(context.Background(), "after", nil, nil))
		})
	}
}

func TestClientEventsAndRequests(t *testing.T) {
	a, srv := Pipe(8)
	c := NewClient(a)
	got := make(chan *Msg, 1)
	c.OnEvent(func(m *Msg) { got <- m })
	defer c.Close()
	srv.Send(&Msg{Type: Event, Topic: "shutdown", Tag: 12345})
	select {
	case m := <-got:
		if m.Topic != "shutdown" {
			t.Fatalf("event %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("event not delivered")
	}
	// A request sent to a client is answered ENOSYS.
	srv.Send(&Msg{Type: Request, Topic: "ping", Tag: 3})
	m, err := srv.Recv()
	if err != nil || m.Type != Response || m.Tag != 3 || m.Errnum != int32(syscall.ENOSYS) {
		t.Fatalf("reply to a request sent to a client: %v %v", m, err)
	}
	if err := c.Notify("log", "x"); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.Recv(); m.Flags&FlagNoResponse == 0 || m.Tag != 0 {
		t.Fatalf("Notify sent %v", m)
	}
}
