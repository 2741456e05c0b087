package client

import (
	"errors"
	"syscall"
	"testing"
)

func TestConnectErrors(t *testing.T) {
	t.Setenv("FLUX_URI", "")
	if _, err := Connect(""); !errors.Is(err, ErrNoInstance) {
		t.Errorf("Connect with no FLUX_URI: %v, want ErrNoInstance", err)
	}
	if _, err := Connect("local:///nonexistent/dir/local"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Connect to a missing socket: %v, want ENOENT", err)
	}
	if _, err := Connect("tcp://host:1"); err == nil {
		t.Error("Connect accepted a tcp:// URI")
	}
}

func TestJobValidation(t *testing.T) {
	for _, j := range []Job{{}, {Command: []string{"x"}, Tasks: -1}, {Command: []string{"x"}, CoresPerTask: -2}} {
		if _, err := j.spec(); err == nil {
			t.Errorf("%+v: no error", j)
		}
	}
	s, err := (&Job{Command: []string{"/bin/echo", "x"}, Nodes: 2}).spec()
	if err != nil || s.Req.Tasks != 2 || s.Req.CoresPerTask != 1 || s.Name != "/bin/echo" {
		t.Errorf("defaults: %+v, %v", s, err)
	}
}
