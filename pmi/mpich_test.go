package pmi

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// These tests run real MPICH ranks (Debian mpich 4.0.2) under our Server,
// and our Client under MPICH's hydra. The testbed notes are in
// ../shared/testbed/README.md and mpich-pmi-transcript.txt.

func needMPICH(t *testing.T) (mpicc, mpiexec string) {
	t.Helper()
	mpicc, err1 := exec.LookPath("mpicc.mpich")
	mpiexec, err2 := exec.LookPath("mpiexec.mpich")
	if err1 != nil || err2 != nil {
		testbed.Require(t, "MPICH (mpicc and mpiexec)", "apt-get install mpich libmpich-dev")
	}
	return mpicc, mpiexec
}

// buildHello compiles testdata/mpi_hello.c into t.TempDir().
func buildHello(t *testing.T) string {
	mpicc, _ := needMPICH(t)
	bin := filepath.Join(t.TempDir(), "mpi_hello")
	out, err := exec.Command(mpicc, "-O1", "-o", bin, "testdata/mpi_hello.c").CombinedOutput()
	if err != nil {
		t.Fatalf("mpicc: %v\n%s", err, out)
	}
	return bin
}

// childEnv is this process's environment without any PMI or hydra settings.
func childEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PMI_") || strings.HasPrefix(kv, "HYDI_") || strings.HasPrefix(kv, "MPI_LOCAL") ||
			strings.HasPrefix(kv, "PMI_HELPER_MODE=")
	})
}

// job is the task processes of the servers' parts, started as our launcher
// would: fd 3 = the task's socket, PMI_FD=3, PMI_RANK, PMI_SIZE.
type job struct {
	cmds []*exec.Cmd
	outs []*bytes.Buffer
}

func startJob(t *testing.T, ctx context.Context, servers []*Server, env []string, argv ...string) *job {
	t.Helper()
	j := &job{}
	for _, s := range servers {
		for i := range s.cfg.Ranks {
			f, err := s.TaskFile(i)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			cmd.Env = append(append(childEnv(), env...), s.TaskEnv(i, 3)...)
			cmd.ExtraFiles = []*os.File{f}
			out := &bytes.Buffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			j.cmds = append(j.cmds, cmd)
			j.outs = append(j.outs, out)
		}
	}
	return j
}

func (j *job) kill() {
	for _, c := range j.cmds {
		c.Process.Kill()
	}
}

// wait returns the tasks' errors and combined output, in start order.
func (j *job) wait() ([]error, string) {
	errs := make([]error, len(j.cmds))
	var all strings.Builder
	for i, c := range j.cmds {
		errs[i] = c.Wait()
		all.WriteString(j.outs[i].String())
	}
	return errs, all.String()
}

func checkHello(t *testing.T, out string, n int) {
	t.Helper()
	for r := range n {
		want := fmt.Sprintf("hello rank=%d size=%d sum=%d ok", r, n, n*(n-1)/2)
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %q in the output:\n%s", want, out)
		}
	}
}

func TestMPICHOneServer(t *testing.T) {
	bin := buildHello(t)
	const n = 4
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newServer(t, ServerConfig{KVSName: "flux-mpich1", Size: n, Ranks: []int{0, 1, 2, 3}, Mapping: ProcessMapping([]int{n})})
	j := startJob(t, ctx, []*Server{s}, nil, bin)
	errs, out := j.wait()
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
	checkHello(t, out, n)
	t.Logf("output:\n%s", out)
}

// TestMPICHTwoServers splits 4 ranks 2+2 over two Servers ("nodes") whose
// exchanges are wired to each other, with mapping (vector,(0,2,2)).
func TestMPICHTwoServers(t *testing.T) {
	bin := buildHello(t)
	const n = 4
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mapping := ProcessMapping([]int{2, 2})
	if mapping != "(vector,(0,2,2))" {
		t.Fatalf("mapping %q", mapping)
	}
	ov := &fakeOverlay{parts: 2}
	var mu sync.Mutex
	epochs := map[int]int{}
	count := func(f func(int, map[string]string, func(map[string]string, error))) func(int, map[string]string, func(map[string]string, error)) {
		return func(e int, p map[string]string, d func(map[string]string, error)) {
			mu.Lock()
			epochs[e] += len(p)
			mu.Unlock()
			f(e, p, d)
		}
	}
	a := newServer(t, ServerConfig{KVSName: "flux-mpich2", Size: n, Ranks: []int{0, 1}, Mapping: mapping, Exchange: count(ov.exchange(0))})
	b := newServer(t, ServerConfig{KVSName: "flux-mpich2", Size: n, Ranks: []int{2, 3}, Mapping: mapping, Exchange: count(ov.exchange(1))})
	j := startJob(t, ctx, []*Server{a, b}, nil, bin)
	errs, out := j.wait()
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
	checkHello(t, out, n)
	mu.Lock()
	t.Logf("keys exchanged per barrier epoch: %v\noutput:\n%s", epochs, out)
	mu.Unlock()
}

func TestMPICHAbort(t *testing.T) {
	bin := buildHello(t)
	const n = 2
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type call struct{ rank, code int }
	aborted := make(chan call, 2)
	var j *job
	var started sync.WaitGroup
	started.Add(1)
	s := newServer(t, ServerConfig{KVSName: "flux-mpich3", Size: n, Ranks: []int{0, 1}, Mapping: ProcessMapping([]int{n}),
		Abort: func(rank, code int, msg string) {
			started.Wait()
			aborted <- call{rank, code}
			j.kill() // what the launcher does: kill the whole job
		}})
	j = startJob(t, ctx, []*Server{s}, nil, bin, "abort")
	started.Done()
	errs, out := j.wait()
	select {
	case c := <-aborted:
		if c != (call{1, 7}) {
			t.Errorf("Abort(rank %d, code %d); want rank 1, code 7", c.rank, c.code)
		}
	default:
		t.Fatalf("Abort was not called; task errors %v; output:\n%s", errs, out)
	}
	if ctx.Err() != nil {
		t.Errorf("the job ran into the test's timeout")
	}
	t.Logf("task errors %v; output:\n%s", errs, out)
}

// TestHelperClient is not a test by itself: with PMI_HELPER_MODE=1 it is a
// PMI-1 client process (the way a broker bootstraps), run under hydra and
// under our Server by the tests below.
func TestHelperClient(t *testing.T) {
	if os.Getenv("PMI_HELPER_MODE") != "1" {
		t.Skip("helper process for TestHydraClient and TestServerChildClients")
	}
	fd := os.Getenv("PMI_FD")
	c, err := ClientFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Init(); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(fmt.Sprintf("card-%d", c.Rank()), fmt.Sprintf("tcp://127.0.0.1:%d", 9000+c.Rank())); err != nil {
		t.Fatal(err)
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
	var peers []string
	for r := range c.Size() {
		v, err := c.Get(fmt.Sprintf("card-%d", r))
		if err != nil {
			t.Fatal(err)
		}
		peers = append(peers, v)
	}
	_, missing := c.Get("no-such-key")
	if err := c.Finalize(); err != nil {
		t.Fatal(err)
	}
	// what a broker launches next must not inherit the PMI socket
	check := exec.Command("sh", "-c", "test -e /proc/self/fd/"+fd+" && echo inherited || echo closed")
	inherit, _ := check.Output()
	fmt.Printf("HELPER rank=%d size=%d kvs=%s peers=%s missing=%v fd=%s\n", c.Rank(), c.Size(), c.KVSName(),
		strings.Join(peers, ","), missing != nil, strings.TrimSpace(string(inherit)))
}

func checkHelpers(t *testing.T, out string, n int) {
	t.Helper()
	var peers []string
	for r := range n {
		peers = append(peers, fmt.Sprintf("tcp://127.0.0.1:%d", 9000+r))
	}
	for r := range n {
		re := fmt.Sprintf("HELPER rank=%d size=%d kvs=", r, n)
		i := strings.Index(out, re)
		if i < 0 {
			t.Errorf("no %q line in the output:\n%s", re, out)
			continue
		}
		line, _, _ := strings.Cut(out[i:], "\n")
		if !strings.Contains(line, " peers="+strings.Join(peers, ",")+" missing=true fd=closed") {
			t.Errorf("rank %d: %s", r, line)
		}
	}
}

// TestHydraClient runs our Client under MPICH's own process manager:
// mpiexec -n 3 <this test binary> -test.run '^TestHelperClient$'.
func TestHydraClient(t *testing.T) {
	_, mpiexec := needMPICH(t)
	const n = 3
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, mpiexec, "-n", fmt.Sprint(n), os.Args[0], "-test.run", "^TestHelperClient$", "-test.count", "1")
	cmd.Env = append(childEnv(), "PMI_HELPER_MODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpiexec: %v\n%s", err, out)
	}
	checkHelpers(t, string(out), n)
	t.Logf("output:\n%s", out)
}

// TestServerChildClients runs the helper client as child processes of our
// Server (a nested instance's brokers under our launcher).
func TestServerChildClients(t *testing.T) {
	const n = 3
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newServer(t, ServerConfig{KVSName: "flux-nested", Size: n, Ranks: []int{0, 1, 2}})
	j := startJob(t, ctx, []*Server{s}, []string{"PMI_HELPER_MODE=1"}, os.Args[0], "-test.run", "^TestHelperClient$", "-test.count", "1")
	errs, out := j.wait()
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
	checkHelpers(t, out, n)
}
