package overlay

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// localScheme prefixes the URI of an instance's client socket (FLUX_URI).
const localScheme = "local://"

// socketName is the socket's file name inside the run directory.
const socketName = "local"

// maxSocketPath is the usable length of sun_path on Linux (108 minus the NUL).
const maxSocketPath = 107

// Listener accepts client connections on an instance's unix socket. Only
// processes running as the instance owner's uid get through: the directory is
// 0700 and every peer's uid is checked with SO_PEERCRED.
type Listener struct {
	ul    *net.UnixListener
	path  string
	owner atomic.Int64 // the uid allowed in; a test changes it to exercise refusal
}

// ListenLocal creates dir (mode 0700) if missing, or tightens it to 0700 if it
// exists and belongs to us, and listens on dir/local. It returns the URI
// clients use: "local://" + the socket's absolute path. A stale socket left by
// a crashed instance is replaced; a live one is an error.
func ListenLocal(dir string) (*Listener, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("overlay: run directory %q: %w", dir, err)
	}
	if err := privateDir(abs); err != nil {
		return nil, "", err
	}
	path := filepath.Join(abs, socketName)
	if len(path) > maxSocketPath {
		return nil, "", fmt.Errorf("overlay: socket path %s is %d bytes, unix sockets allow at most %d; use a shorter run directory (e.g. under /tmp)", path, len(path), maxSocketPath)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, "", err
	}
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, "", fmt.Errorf("overlay: cannot listen for clients: %w", err)
	}
	ul.SetUnlinkOnClose(true)
	l := &Listener{ul: ul, path: path}
	l.owner.Store(int64(os.Geteuid()))
	return l, localScheme + path, nil
}

// privateDir makes sure dir exists, is a directory owned by us, and has mode
// 0700, so no other user can even reach the socket.
func privateDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, os.ErrExist) {
		if errors.Is(err, os.ErrNotExist) {
			err = os.MkdirAll(dir, 0o700)
		}
		if err != nil {
			return fmt.Errorf("overlay: cannot create run directory: %w", err)
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("overlay: run directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("overlay: run directory %s exists and is not a directory (%s); remove it or choose another", dir, fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("overlay: run directory %s: cannot read its owner", dir)
	}
	if me := os.Geteuid(); int(st.Uid) != me {
		return fmt.Errorf("overlay: run directory %s belongs to uid %d, not to you (uid %d); choose a directory of your own", dir, st.Uid, me)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("overlay: cannot make run directory private: %w", err)
		}
	}
	return nil
}

// removeStaleSocket removes a socket file nobody listens on any more.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("overlay: %s exists and is not a socket; remove it or choose another run directory", path)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("overlay: an instance is already listening at %s%s; use it (export FLUX_URI=%s%s) or choose another run directory", localScheme, path, localScheme, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("overlay: removing stale socket: %w", err)
	}
	return nil
}

// Accept waits for the next client whose uid is the owner's and returns its
// connection. A peer with another uid is logged and closed, and Accept goes on
// waiting. After Close it returns ErrClosed.
func (l *Listener) Accept() (Conn, error) {
	for {
		uc, err := l.ul.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("overlay: accepting a client: %w", err)
		}
		if err := checkPeer(uc, int(l.owner.Load())); err != nil {
			log.Printf("overlay: refused client on %s: %v", l.path, err)
			uc.Close()
			continue
		}
		return NewStreamConn(newQuietConn(uc)), nil
	}
}

// checkPeer returns an error unless the process at the other end of uc runs
// as uid owner.
func checkPeer(uc *net.UnixConn, owner int) error {
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("cannot read peer credentials: %w", credErr)
	}
	if int(cred.Uid) != owner {
		return fmt.Errorf("pid %d runs as uid %d; only the instance owner (uid %d) may connect", cred.Pid, cred.Uid, owner)
	}
	return nil
}

// Close stops listening and removes the socket file.
func (l *Listener) Close() error { return l.ul.Close() }

// Addr is the socket's path.
func (l *Listener) Addr() string { return l.path }

// Dial connects to the instance at uri ("local:///abs/path/to/socket", as in
// FLUX_URI).
func Dial(uri string) (Conn, error) {
	path, err := parseLocalURI(uri)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se // "connect: no such file or directory"
		}
		hint := "is FLUX_URI stale?"
		if errors.Is(err, syscall.EACCES) {
			hint = "the instance belongs to another user"
		}
		return nil, fmt.Errorf("no instance at %s: %w; %s", uri, err, hint)
	}
	if uc, ok := c.(*net.UnixConn); ok {
		return NewStreamConn(newQuietConn(uc)), nil
	}
	return NewStreamConn(c), nil
}

func parseLocalURI(uri string) (string, error) {
	path, ok := strings.CutPrefix(uri, localScheme)
	if !ok {
		return "", fmt.Errorf("overlay: cannot connect to %q: only %s URIs are supported (local:///path/to/socket); check FLUX_URI", uri, localScheme)
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("overlay: cannot connect to %q: the socket path must be absolute (local:///path/to/socket); check FLUX_URI", uri)
	}
	return path, nil
}
