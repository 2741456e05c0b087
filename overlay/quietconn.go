package overlay

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// quietConn is a unix socket whose reads and writes are raw system calls.
//
// Why: every ordinary system call a Go program makes (syscall.Read, Write)
// tells the scheduler it may block, and the first one after the process
// was idle wakes the runtime's monitor thread (sysmon), which then polls
// every 20 µs for as long as the process stays busy. A tree of 64 instances
// that each wake for a batch of lines every few milliseconds spent a tenth
// of its CPU, and most of its context switches, in those polls. The socket
// is non-blocking (the poller waits for it), so a read or write never
// blocks and needs none of that: RawConn runs the call when the socket is
// ready, and waits through the poller (honouring deadlines) on EAGAIN.
type quietConn struct {
	*net.UnixConn
	raw syscall.RawConn
}

// newQuietConn wraps uc; if its raw connection is not available it is used
// as it is.
func newQuietConn(uc *net.UnixConn) net.Conn {
	raw, err := uc.SyscallConn()
	if err != nil {
		return uc
	}
	return &quietConn{UnixConn: uc, raw: raw}
}

func (c *quietConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // not readable yet: wait in the poller
			case 0:
				n = int(r)
			default:
				errno = e
			}
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "unix", Err: os.NewSyscallError("read", errno)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p (net.Conn's contract), with MSG_NOSIGNAL so that a
// peer gone away is EPIPE, never SIGPIPE.
func (c *quietConn) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		var n int
		var errno syscall.Errno
		err := c.raw.Write(func(fd uintptr) bool {
			for {
				r, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[done])),
					uintptr(len(p)-done), syscall.MSG_NOSIGNAL, 0, 0)
				switch e {
				case syscall.EINTR:
					continue
				case syscall.EAGAIN:
					return false // the socket buffer is full: wait in the poller
				case 0:
					n = int(r)
				default:
					errno = e
				}
				return true
			}
		})
		if err != nil {
			return done, err
		}
		if errno != 0 {
			return done, &net.OpError{Op: "write", Net: "unix", Err: os.NewSyscallError("write", errno)}
		}
		done += n
	}
	return done, nil
}
