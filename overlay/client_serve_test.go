package overlay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer makes c serve "svc.echo" (its payload back) and "svc.fail"
// (EPERM); anything else is ENOSYS, as a real service would answer.
func echoServer(c *Client) {
	c.OnRequest(func(m *Msg) {
		var resp *Msg
		switch m.Topic {
		case "svc.echo":
			var s string
			if err := m.Decode(&s); err != nil {
				resp = m.RespondError(syscall.EPROTO, err.Error())
			} else if resp, err = m.Respond("echo: " + s); err != nil {
				resp = m.RespondError(syscall.EPROTO, err.Error())
			}
		case "svc.fail":
			resp = m.RespondError(syscall.EPERM, "svc.fail always fails")
		default:
			resp = m.RespondError(syscall.ENOSYS, fmt.Sprintf("no service %q", m.Topic))
		}
		if m.Flags&FlagNoResponse != 0 {
			return
		}
		go c.Send(resp) // never from the reader goroutine
	})
}

// TestClientServesRequests: two Clients over a Pipe; one serves, the other
// calls, many calls at once, with responses matched by tag.
func TestClientServesRequests(t *testing.T) {
	a, b := Pipe(4) // small: the server's responses queue behind requests
	srv, cli := NewClient(a), NewClient(b)
	defer srv.Close()
	defer cli.Close()
	echoServer(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var got string
			want := fmt.Sprintf("echo: hello %d", i)
			if err := cli.RPC(ctx, "svc.echo", fmt.Sprintf("hello %d", i), &got); err != nil || got != want {
				t.Errorf("svc.echo: %q, %v; want %q", got, err, want)
			}
		})
	}
	wg.Wait()

	err := cli.RPC(ctx, "svc.fail", nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || !errors.Is(err, syscall.EPERM) || re.Text != "svc.fail always fails" {
		t.Errorf("svc.fail: %v", err)
	}
	// The serving client still makes calls of its own.
	cli.OnRequest(func(m *Msg) {
		r, _ := m.Respond("from the other side")
		go cli.Send(r)
	})
	var got string
	if err := srv.RPC(ctx, "svc.any", nil, &got); err != nil || got != "from the other side" {
		t.Errorf("call from the serving client: %q %v", got, err)
	}
	// A notification reaches fn and gets no answer.
	seen := make(chan string, 1)
	srv.OnRequest(func(m *Msg) { seen <- m.Topic })
	if err := cli.Notify("svc.log", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case topic := <-seen:
		if topic != "svc.log" {
			t.Errorf("notification topic %q", topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("notification not delivered")
	}
}

// TestClientWithoutOnRequest: without a handler, or after OnRequest(nil), a
// request is answered ENOSYS, and a caller sees a *RemoteError.
func TestClientWithoutOnRequest(t *testing.T) {
	a, b := Pipe(4)
	srv, cli := NewClient(a), NewClient(b)
	defer srv.Close()
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	check := func(when string) {
		t.Helper()
		err := cli.RPC(ctx, "svc.echo", "x", nil)
		var re *RemoteError
		if !errors.As(err, &re) || !errors.Is(err, syscall.ENOSYS) || re.Text != `a client serves no requests (topic "svc.echo")` {
			t.Errorf("%s: %v", when, err)
		}
	}
	check("no OnRequest")
	echoServer(srv)
	if err := cli.RPC(ctx, "svc.echo", "x", nil); err != nil {
		t.Errorf("with OnRequest: %v", err)
	}
	srv.OnRequest(nil)
	check("after OnRequest(nil)")
}

// TestClientSendAfterClose: Send fails once the connection is gone.
func TestClientSendAfterClose(t *testing.T) {
	a, b := Pipe(1)
	c := NewClient(a)
	b.Close()
	c.Close()
	if err := c.Send(&Msg{Type: Response, Topic: "x", Tag: 1}); err == nil {
		t.Error("Send on a closed client succeeded")
	}
}
