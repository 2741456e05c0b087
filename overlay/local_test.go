package overlay

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestListenLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "run")
	l, uri, err := ListenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("run directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	sock := filepath.Join(dir, "local")
	if uri != "local://"+sock {
		t.Fatalf("URI %q, want local://%s", uri, sock)
	}

	// The socket is reachable and carries RPCs.
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for {
					req, err := conn.Recv()
					if err != nil {
						return
					}
					resp, _ := req.Respond(req.Topic + " pong")
					conn.Send(resp)
				}
			}()
		}
	}()
	conn, err := Dial(uri)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(conn)
	var s string
	if err := c.RPC(context.Background(), "ping", nil, &s); err != nil || s != "ping pong" {
		t.Fatalf("RPC over the local socket: %q %v", s, err)
	}
	c.Close()

	// A second instance in the same directory is refused while the first lives.
	if _, _, err := ListenLocal(dir); err == nil || !strings.Contains(err.Error(), "already listening") {
		t.Fatalf("second ListenLocal: %v, want 'already listening'", err)
	}
	l.Close()
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file left after Close: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Accept after Close: %v, want ErrClosed", err)
	}
}

func TestListenLocalDirChecks(t *testing.T) {
	t.Run("existing dir is made private", func(t *testing.T) {
		dir := t.TempDir()
		os.Chmod(dir, 0o755)
		l, _, err := ListenLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
			t.Fatalf("mode %v, want 0700", fi.Mode().Perm())
		}
	})
	t.Run("stale socket replaced", func(t *testing.T) {
		dir := t.TempDir()
		l, uri, err := ListenLocal(dir)
		if err != nil {
			t.Fatal(err)
		}
		// Simulate a crash: the socket file stays behind.
		l.ul.SetUnlinkOnClose(false)
		l.Close()
		l2, uri2, err := ListenLocal(dir)
		if err != nil {
			t.Fatalf("ListenLocal over a stale socket: %v", err)
		}
		defer l2.Close()
		if uri2 != uri {
			t.Fatalf("URI changed: %s then %s", uri, uri2)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		if _, _, err := ListenLocal(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("ListenLocal on a file: %v", err)
		}
	})
	t.Run("socket name taken by a file", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "local"), nil, 0o600)
		if _, _, err := ListenLocal(dir); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Fatalf("ListenLocal: %v", err)
		}
	})
	t.Run("path too long", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
		if _, _, err := ListenLocal(dir); err == nil || !strings.Contains(err.Error(), "shorter") {
			t.Fatalf("ListenLocal: %v", err)
		}
	})
	t.Run("owned by someone else", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a directory away")
		}
		dir := t.TempDir()
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Skip(err)
		}
		_, _, err := ListenLocal(dir)
		if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
			t.Fatalf("ListenLocal in another user's directory: %v", err)
		}
	})
}

// TestAcceptRefusesOtherUID pretends the owner is another uid: our own
// connection must be refused (closed), and Accept must keep going.
func TestAcceptRefusesOtherUID(t *testing.T) {
	l, uri, err := ListenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.owner.Store(int64(os.Geteuid()) + 4242)
	accepted := make(chan Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	refused, err := Dial(uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refused.Recv(); err == nil {
		t.Fatal("a peer with another uid got a message")
	}
	refused.Close()
	select {
	case <-accepted:
		t.Fatal("Accept returned a connection from the wrong uid")
	default:
	}
	l.owner.Store(int64(os.Geteuid()))
	ok, err := Dial(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not continue after refusing a peer")
	}
}

func TestDialErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "local")
	tests := []struct {
		uri  string
		want []string
		is   error
	}{
		{"local://" + missing, []string{"no instance at local://" + missing + ": connect: no such file or directory; is FLUX_URI stale?"}, syscall.ENOENT},
		{"local://relative/path", []string{"must be absolute", "FLUX_URI"}, nil},
		{"tcp://10.0.0.1:8020", []string{"only local:// URIs", "FLUX_URI"}, nil},
		{"", []string{"only local:// URIs"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			c, err := Dial(tt.uri)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}
