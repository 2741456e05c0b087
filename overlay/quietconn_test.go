package overlay

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// unixPair returns both ends of a real unix socket connection, wrapped.
func unixPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan *net.UnixConn, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	d, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	a := newQuietConn(d)
	b := newQuietConn(<-accepted)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// A write far larger than the socket's buffer goes through whole (the
// writer waits in the poller on EAGAIN), and the reader gets every byte.
func TestQuietConnLargeWrite(t *testing.T) {
	a, b := unixPair(t)
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	errc := make(chan error, 1)
	go func() {
		n, err := a.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		errc <- err
		a.Close()
	}()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, wrote %d", len(got), len(want))
	}
}

// A read waits for data and honours its deadline; a write to a closed peer
// fails with EPIPE instead of killing the process with SIGPIPE.
func TestQuietConnDeadlineAndClosedPeer(t *testing.T) {
	a, b := unixPair(t)
	b.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 8)
	if _, err := b.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	b.SetReadDeadline(time.Time{})
	go a.Write([]byte("hi"))
	if n, err := b.Read(buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	b.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ { // the first writes may still land in the buffer
		_, err = a.Write(make([]byte, 4096))
	}
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write to a closed peer: %v", err)
	}
	if _, err := a.Read(buf); err == nil {
		t.Fatal("read from a connection whose peer closed gave no error")
	}
}

// After Close, reads and writes fail at once.
func TestQuietConnClosed(t *testing.T) {
	a, _ := unixPair(t)
	a.Close()
	if _, err := a.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
}
