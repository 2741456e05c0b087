package launcher

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exit statuses of tasks that could not be started, as a shell reports them.
const (
	statusNotFound  = 127 // the command does not exist
	statusCannotRun = 126 // it exists but cannot be executed
	statusSetup     = 1   // the task's environment could not be set up (cwd, output file, fork)
)

// execFailure explains why fork/exec of file (the command name the user
// wrote is name) failed in a way the user can act on. Go's child reports
// only an errno, and chdir and execve fail with the same ones, so the cwd is
// checked after the fact; that costs nothing on the success path.
func execFailure(name, file, cwd string, viaPath bool, err error) (status int, msg string) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return statusCannotRun, fmt.Sprintf("%s: %v", name, err)
	}
	switch errno {
	case syscall.EAGAIN, syscall.ENOMEM:
		return statusSetup, fmt.Sprintf("%s: cannot fork: %v (too many processes? check ulimit -u and pid_max)", name, errno)
	case syscall.ENOENT, syscall.EACCES, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG:
		if cwd != "" {
			if cerr := unix.Access(cwd, unix.X_OK); cerr != nil {
				return statusSetup, fmt.Sprintf("cwd %s: %v", cwd, cerr)
			}
		}
	}
	switch errno {
	case syscall.ENOENT:
		if viaPath {
			return statusNotFound, name + ": command not found"
		}
		if fileExists(file, cwd) {
			return statusCannotRun, name + ": bad interpreter: the #! line names a program that does not exist"
		}
		return statusNotFound, name + ": no such file or directory"
	case syscall.EACCES:
		if isDir(file, cwd) {
			return statusCannotRun, name + ": is a directory"
		}
		return statusCannotRun, name + ": permission denied"
	case syscall.ENOEXEC:
		return statusCannotRun, name + ": exec format error (not a binary, and no #! line)"
	}
	return statusCannotRun, fmt.Sprintf("%s: %v", name, errno)
}

func statRel(file, cwd string) (syscall.Stat_t, error) {
	if cwd != "" && len(file) > 0 && file[0] != '/' {
		file = cwd + "/" + file
	}
	var st syscall.Stat_t
	err := syscall.Stat(file, &st)
	return st, err
}

func fileExists(file, cwd string) bool {
	_, err := statRel(file, cwd)
	return err == nil
}

func isDir(file, cwd string) bool {
	st, err := statRel(file, cwd)
	return err == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR
}
