package pmi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// libBuild holds the PMI libraries and the C check programs, built once
// per test binary with the system C compiler, as scripts/build builds them.
var libBuild struct {
	once          sync.Once
	dir, err      string
	check, check2 string // libpmi_check, libpmi2_check
	libDir        string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if libBuild.dir != "" {
		os.RemoveAll(libBuild.dir)
	}
	os.Exit(code)
}

func buildLibs(t *testing.T) (libDir, check, check2 string) {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		testbed.Require(t, "a C compiler", "cc is not installed (apt-get install gcc)")
	}
	libBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "flux-libpmi-")
		if err != nil {
			libBuild.err = err.Error()
			return
		}
		libBuild.dir = dir
		libBuild.libDir = filepath.Join(dir, "lib")
		if out, err := exec.Command("bash", "libpmi/build.sh", libBuild.libDir).CombinedOutput(); err != nil {
			libBuild.err = fmt.Sprintf("libpmi/build.sh: %v\n%s", err, out)
			return
		}
		for _, p := range []struct{ src, lib, out string }{
			{"testdata/libpmi_check.c", "-lpmi", "libpmi_check"},
			{"testdata/libpmi2_check.c", "-lpmi2", "libpmi2_check"},
		} {
			out := filepath.Join(dir, p.out)
			cmd := exec.Command("cc", "-O1", "-Wall", "-o", out, p.src, "-Ilibpmi", "-L"+libBuild.libDir, p.lib,
				"-Wl,-rpath,"+libBuild.libDir)
			if b, err := cmd.CombinedOutput(); err != nil {
				libBuild.err = fmt.Sprintf("cc %s: %v\n%s", p.src, err, b)
				return
			}
		}
		libBuild.check = filepath.Join(dir, "libpmi_check")
		libBuild.check2 = filepath.Join(dir, "libpmi2_check")
	})
	if libBuild.err != "" {
		t.Fatal(libBuild.err)
	}
	return libBuild.libDir, libBuild.check, libBuild.check2
}

// baseEnv is the test's environment without PMI variables, outside any
// job.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PMI_") && !strings.HasPrefix(kv, "FLUX_PMI_") && !strings.HasPrefix(kv, "FLUX_JOB_ID=") {
			env = append(env, kv)
		}
	}
	return env
}

// runJob runs n copies of prog as one job served by a real Server (one
// node), each with its socket at fd 3, and returns each task's output and
// error.
func runJob(t *testing.T, n int, prog string, args ...string) ([]string, []error) {
	t.Helper()
	perNode := []int{n}
	ranks := make([]int, n)
	for i := range ranks {
		ranks[i] = i
	}
	srv := newServer(t, ServerConfig{KVSName: "flux-77", Size: n, Ranks: ranks, Mapping: ProcessMapping(perNode)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	outs, errs := make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		f, err := srv.TaskFile(i)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, prog, args...)
		cmd.ExtraFiles = []*os.File{f}
		cmd.Env = append(baseEnv(), srv.TaskEnv(i, 3)...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = cmd.Wait()
			outs[i] = out.String()
		}(i)
	}
	wg.Wait()
	return outs, errs
}

// Every PMI-1 call, its error codes, and a put/barrier/get across 3 ranks.
func TestLibPMI(t *testing.T) {
	_, check, _ := buildLibs(t)
	outs, errs := runJob(t, 3, check, "all")
	for i := range outs {
		if errs[i] != nil || !strings.Contains(outs[i], fmt.Sprintf("ok rank=%d", i)) {
			t.Errorf("task %d: %v\n%s", i, errs[i], outs[i])
		}
	}
}

// The PMI-2 subset: init, job attributes, node attributes, put/fence/get.
func TestLibPMI2(t *testing.T) {
	_, _, check2 := buildLibs(t)
	outs, errs := runJob(t, 3, check2)
	for i := range outs {
		if errs[i] != nil || !strings.Contains(outs[i], fmt.Sprintf("ok rank=%d", i)) {
			t.Errorf("task %d: %v\n%s", i, errs[i], outs[i])
		}
	}
}

// PMI_Get_clique_ranks reads the node's ranks from PMI_process_mapping:
// the tasks of one node of a bigger job, several mappings.
func TestLibPMIClique(t *testing.T) {
	_, check, _ := buildLibs(t)
	for _, tc := range []struct {
		mapping string
		size    int
		local   []int
		want    string
	}{
		{"(vector,(0,2,2))", 4, []int{2, 3}, "clique=2,3"},              // node 1 of 2, block
		{"(vector,(0,3,1))", 3, []int{1}, "clique=1"},                   // one per node
		{"(vector,(0,1,3),(1,1,1))", 4, []int{0, 1, 2}, "clique=0,1,2"}, // uneven nodes
		{"(vector,(0,1,3),(1,1,1))", 4, []int{3}, "clique=3"},           // the small node
		{"(vector,(0,2,1),(0,2,1))", 4, []int{0, 2}, "clique=0,2"},      // cyclic: node 0 twice
		{"garbage", 2, []int{1}, "clique=1"},                            // unreadable: just itself
		{"(vector,(0,1,1))", 3, []int{2}, "clique=2"},                   // too short: just itself
	} {
		srv := newServer(t, ServerConfig{KVSName: "flux-5", Size: tc.size, Ranks: tc.local, Mapping: tc.mapping})
		f, err := srv.TaskFile(0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(check, "clique")
		cmd.ExtraFiles = []*os.File{f}
		cmd.Env = append(baseEnv(), srv.TaskEnv(0, 3)...)
		out, err := cmd.CombinedOutput()
		f.Close()
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("rank=%d %s\n", tc.local[0], tc.want)) {
			t.Errorf("mapping %s, ranks %v: %v\n%s (want %s)", tc.mapping, tc.local, err, out, tc.want)
		}
		srv.Close()
	}
}

// bench mode is what scripts/bench-mpi times; it must work here.
func TestLibPMIBenchMode(t *testing.T) {
	_, check, _ := buildLibs(t)
	outs, errs := runJob(t, 4, check, "bench")
	for i := range outs {
		if errs[i] != nil {
			t.Errorf("task %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	if !strings.Contains(outs[0], "bench size=4 rounds=5 round=") {
		t.Errorf("rank 0 printed %q", outs[0])
	}
}

// Outside a job (no PMI_FD), PMI_Init returns an error at once and says why.
func TestLibPMINoJob(t *testing.T) {
	_, check, _ := buildLibs(t)
	for _, env := range [][]string{
		nil,
		{"PMI_FD=notanumber", "PMI_RANK=0", "PMI_SIZE=1"},
		{"PMI_FD=3", "PMI_RANK=5", "PMI_SIZE=2"},
		{"PMI_FD=99", "PMI_RANK=0", "PMI_SIZE=1"}, // not open
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, check, "noinit")
		cmd.Env = append(baseEnv(), env...)
		out, err := cmd.CombinedOutput()
		hung := ctx.Err() != nil
		cancel()
		if hung {
			t.Fatalf("env %v: PMI_Init hung", env)
		}
		if err == nil || !strings.Contains(string(out), "init rc=-1") || !strings.Contains(string(out), "libpmi: ") {
			t.Errorf("env %v: %v\n%s", env, err, out)
		}
	}
	out, _ := exec.Command(check, "noinit").CombinedOutput()
	if !strings.Contains(string(out), "PMI_FD is not set") {
		t.Errorf("no PMI_FD: the message does not say so:\n%s", out)
	}
}

// A task of a job started without PMI (a single-task line, -o pmi=off):
// FLUX_JOB_ID but no PMI_FD makes it a singleton, as MPICH is on its own.
func TestLibPMISingleton(t *testing.T) {
	_, check, _ := buildLibs(t)
	cmd := exec.Command(check, "singleton")
	cmd.Env = append(baseEnv(), "FLUX_JOB_ID=ƒ2bG3oV")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok singleton") {
		t.Errorf("%v\n%s", err, out)
	}
	cmd = exec.Command(check, "singleton") // outside a job: not a singleton
	cmd.Env = baseEnv()
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("without FLUX_JOB_ID the singleton checks passed:\n%s", out)
	}
}

// A server that answers PMI_Init with garbage or a truncated line, or
// hangs up: an error return and a message, never a hang.
func TestLibPMIBadServer(t *testing.T) {
	_, check, _ := buildLibs(t)
	for _, tc := range []struct {
		name, reply string
		hangUp      bool
	}{
		{"garbage", "hello world\n", false},
		{"wrong command", "cmd=maxes kvsname_max=256\n", false},
		{"refused", "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=-1\n", false},
		{"truncated", "cmd=response_to_init pmi_ver", true},
		{"hang up", "", true},
		{"binary", "\x00\xff\xfe\x01\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours := os.NewFile(uintptr(fds[0]), "server")
			theirs := os.NewFile(uintptr(fds[1]), "task")
			c, err := net.FileConn(ours)
			ours.Close()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() {
				r := bufio.NewReader(c)
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				c.Write([]byte(tc.reply))
				if tc.hangUp {
					c.Close()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, check, "init")
			cmd.ExtraFiles = []*os.File{theirs}
			cmd.Env = append(baseEnv(), "PMI_FD=3", "PMI_RANK=0", "PMI_SIZE=1")
			out, err := cmd.CombinedOutput()
			theirs.Close()
			if ctx.Err() != nil {
				t.Fatalf("PMI_Init hung on a %s reply", tc.name)
			}
			if err == nil || !strings.Contains(string(out), "init rc=-1") || !strings.Contains(string(out), "libpmi: ") {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}

// A rank that aborts: the server sees the code, the process does not hang
// once the server hangs up.
func TestLibPMIAbort(t *testing.T) {
	libDir, _, _ := buildLibs(t)
	src := filepath.Join(t.TempDir(), "abort.c")
	if err := os.WriteFile(src, []byte(`#include <pmi.h>
int main(void) { int s; if (PMI_Init(&s)) return 2; PMI_Abort(9, "giving up now"); return 3; }
`), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(t.TempDir(), "abort")
	if out, err := exec.Command("cc", "-o", prog, src, "-Ilibpmi", "-L"+libDir, "-lpmi", "-Wl,-rpath,"+libDir).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	got := make(chan string, 1)
	srv := newServer(t, ServerConfig{KVSName: "flux-9", Size: 1, Ranks: []int{0},
		Abort: func(rank, code int, msg string) { got <- fmt.Sprintf("%d %d %s", rank, code, msg) }})
	f, err := srv.TaskFile(0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = append(baseEnv(), srv.TaskEnv(0, 3)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	select {
	case s := <-got:
		if s != "0 9 giving up now" {
			t.Errorf("abort: %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no abort reached the server")
	}
	srv.Close() // as the job ends: the rank leaves with its code
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 9 {
		t.Errorf("the aborting rank ended with %v, want exit 9", err)
	}
}

func TestLibraryEnv(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		dir  string
		want []string
	}{
		{nil, "", nil},
		{nil, "/x/lib/flux", []string{"FLUX_PMI_LIBRARY_PATH=/x/lib/flux/libpmi.so", "LD_LIBRARY_PATH=/x/lib/flux"}},
		{[]string{"LD_LIBRARY_PATH=/opt/a:/opt/b"}, "/x/lib/flux",
			[]string{"FLUX_PMI_LIBRARY_PATH=/x/lib/flux/libpmi.so", "LD_LIBRARY_PATH=/x/lib/flux:/opt/a:/opt/b"}},
		{[]string{"LD_LIBRARY_PATH=/x/lib/flux:/opt/a"}, "/x/lib/flux",
			[]string{"FLUX_PMI_LIBRARY_PATH=/x/lib/flux/libpmi.so", "LD_LIBRARY_PATH=/x/lib/flux:/opt/a"}},
		{[]string{"I_MPI_PMI_LIBRARY=/opt/intel/libpmi.so"}, "/x/lib/flux",
			[]string{"FLUX_PMI_LIBRARY_PATH=/x/lib/flux/libpmi.so", "LD_LIBRARY_PATH=/x/lib/flux", "I_MPI_PMI_LIBRARY=/x/lib/flux/libpmi.so"}},
	} {
		got := LibraryEnv(tc.env, tc.dir)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("LibraryEnv(%v, %q) = %v, want %v", tc.env, tc.dir, got, tc.want)
		}
	}
}

func TestLibraryDirFor(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "lib", "flux"), 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(root, "bin", "flux")
	if got := libraryDirFor(exe); got != "" {
		t.Errorf("without libpmi.so: %q, want none", got)
	}
	if err := os.WriteFile(filepath.Join(root, "lib", "flux", LibName), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, want := libraryDirFor(exe), filepath.Join(root, "lib", "flux"); got != want {
		t.Errorf("libraryDirFor(%q) = %q, want %q", exe, got, want)
	}
}

// fakeServer answers the PMI-1 requests of one single-rank client correctly,
// except request number bad (counting from 0), which gets reply instead
// (raw bytes: garbage, truncated, huge, binary). It returns when the client
// hangs up.
func fakeServer(c net.Conn, bad int, reply []byte) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 1<<16)
	kvs := map[string]string{}
	for i := 0; ; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if i == bad {
			if _, err := c.Write(reply); err != nil {
				return
			}
			continue
		}
		l, err := ParseLine(strings.TrimSuffix(line, "\n"))
		if err != nil {
			return
		}
		var out string
		switch l.Cmd() {
		case "init":
			out = FormatLine("response_to_init", "pmi_version", "1", "pmi_subversion", "1", "rc", "0")
		case "get_maxes":
			out = FormatLine("maxes", "kvsname_max", "256", "keylen_max", "64", "vallen_max", "1024")
		case "get_appnum":
			out = FormatLine("appnum", "appnum", "0")
		case "get_universe_size":
			out = FormatLine("universe_size", "size", "1")
		case "get_my_kvsname":
			out = FormatLine("my_kvsname", "kvsname", "flux-1")
		case "put":
			kvs[l["key"]] = l["value"]
			out = FormatLine("put_result", "rc", "0", "msg", "success")
		case "get":
			if v, ok := kvs[l["key"]]; ok {
				out = FormatLine("get_result", "rc", "0", "msg", "success", "value", v)
			} else {
				out = FormatLine("get_result", "rc", "-1", "msg", "not_found", "value", "unknown")
			}
		case "barrier_in":
			out = FormatLine("barrier_out")
		case "finalize":
			out = FormatLine("finalize_ack", "rc", "0")
		default:
			return
		}
		if _, err := io.WriteString(c, out); err != nil {
			return
		}
	}
}

// Whatever the server answers to any one request, the library returns
// (the program exits 0, or 1 for a failed check, or 3 for a failed init)
// within seconds: it never crashes or hangs. The C reply parser's fuzz
// target; the seeds run with go test.
func FuzzLibPMIReply(f *testing.F) {
	for _, s := range []struct {
		bad   int
		reply string
	}{
		{0, "hello world\n"},
		{0, "cmd=response_to_init pmi_ver"},
		{1, "cmd=maxes kvsname_max=256 keylen_max=x vallen_max=1024\n"},
		{1, "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=99999999999\n"},
		{4, "cmd=my_kvsname kvsname=\n"},
		{4, "cmd=my_kvsname kvsname=" + strings.Repeat("k", 300) + "\n"},
		{5, "cmd=put_result rc=-1 msg=no\n"},
		{6, "cmd=barrier_out rc=-1\n"},
		{7, "cmd=get_result rc=0 msg=success value=" + strings.Repeat("v", 5000) + "\n"},
		{7, "cmd=get_result rc=0 msg=success\n"},
		{7, "\x00\xff\n"},
		{7, strings.Repeat("x", 9000) + "\n"},
		{3, "cmd=universe_size size=-5\n"},
	} {
		f.Add(s.bad, []byte(s.reply))
	}
	f.Fuzz(func(t *testing.T, bad int, reply []byte) {
		if bad < 0 || bad > 13 || len(reply) > 20000 {
			return
		}
		if (bad == 6 || bad == 9) && !bytes.Contains(reply, []byte("\n")) {
			return // half a barrier_out: a barrier waits for the slowest rank, by design
		}
		_, check, _ := buildLibs(t)
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ours, theirs := os.NewFile(uintptr(fds[0]), "server"), os.NewFile(uintptr(fds[1]), "task")
		c, err := net.FileConn(ours)
		ours.Close()
		if err != nil {
			t.Fatal(err)
		}
		go fakeServer(c, bad, reply)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, check, "bench", "2", "64")
		cmd.ExtraFiles = []*os.File{theirs}
		// A half line and silence: the reply timeout ends the wait.
		cmd.Env = append(baseEnv(), "PMI_FD=3", "PMI_RANK=0", "PMI_SIZE=1", "FLUX_PMI_TIMEOUT=1")
		out, err := cmd.CombinedOutput()
		theirs.Close()
		c.Close()
		if ctx.Err() != nil {
			t.Fatalf("hung with reply %q to request %d:\n%s", reply, bad, out)
		}
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() < 0) {
			t.Fatalf("crashed (%v) with reply %q to request %d:\n%s", err, reply, bad, out)
		}
	})
}
