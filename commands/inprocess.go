package commands

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// A child instance of flux-hierarchy is a job `flux start ... flux
// hierarchy --child ...`. Run as a separate program, the child's relay or
// leaf would talk to its own broker through a socket: every batch of lines
// and results would wake two processes instead of one, and a tree of 64
// leaves would be 128 processes. So flux start runs that one command in its
// own process, connected to the broker in memory, with the environment it
// would have had as a process. Any other command runs as a program.

// inProcess is what flux start hands to a command it runs in its process.
type inProcess struct {
	own *overlay.Client  // the instance flux start runs
	in  *broker.Instance // for its job service without a connection
	env []string         // the command's environment (FLUX_URI, FLUX_PARENT_URI, ...)

	mu     sync.Mutex
	jobs   *broker.LocalJobs // opened by the first localJobs
	closed bool
}

// localJobs opens the instance's in-process job service (a leaf runs its
// lines through it); close closes it.
func (ip *inProcess) localJobs() (*broker.LocalJobs, error) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if ip.closed {
		return nil, broker.ErrClosed
	}
	if ip.jobs == nil {
		j, err := ip.in.LocalJobs(true)
		if err != nil {
			return nil, err
		}
		ip.jobs = j
	}
	return ip.jobs, nil
}

// close ends the command's access to the instance, which it takes as the
// loss of the instance.
func (ip *inProcess) close() {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.closed = true
	ip.own.Close()
	if ip.jobs != nil {
		ip.jobs.Close()
	}
}

type inProcessKey struct{}

// inProcessOf returns what flux start handed over, if the command runs in
// flux start's process.
func inProcessOf(ctx context.Context) (*inProcess, bool) {
	ip, ok := ctx.Value(inProcessKey{}).(*inProcess)
	return ip, ok
}

// getenv reads the command's environment.
func (ip *inProcess) getenv(name string) string {
	v := ""
	for _, kv := range ip.env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val // the last one wins, as in a process's environment
		}
	}
	return v
}

// isHierarchyChild reports whether argv is this executable's own
// `hierarchy --child`, which flux start runs in its process.
func isHierarchyChild(argv []string) bool {
	if len(argv) < 3 || argv[1] != "hierarchy" {
		return false
	}
	self, err := os.Executable()
	if err != nil || !sameFile(argv[0], self) {
		return false
	}
	for _, a := range argv[2:] {
		if a == "--child" || strings.HasPrefix(a, "--child=") {
			return true
		}
	}
	return false
}

func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(filepath.Clean(b))
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// runInProcess runs argv (a flux command) in this process against the
// instance in. Signals end it as they would end the program: SIGTERM,
// SIGINT or SIGHUP, or the instance stopping, close its connection to the
// instance, which it takes as the loss of the instance.
func runInProcess(in *broker.Instance, argv []string) error {
	ip := &inProcess{own: overlay.NewClient(in.Connect()), in: in, env: initialEnv(in.URI)}
	ctx := context.WithValue(context.Background(), inProcessKey{}, ip)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	done := make(chan int, 1)
	go func() { done <- mainContext(ctx, argv) }()
	select {
	case code := <-done:
		return exitStatus(code)
	case s := <-sigs:
		ip.close()
		<-done
		return exitStatus(128 + int(s.(syscall.Signal)))
	case <-in.Done():
		os.Stderr.WriteString("flux start: the instance stopped; ending " + argv[0] + "\n")
		ip.close()
		return exitStatus(<-done)
	}
}
