package itest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

var mpiHello struct {
	once sync.Once
	path string
	err  error
}

// mpiProgram compiles the MPI test program once per test binary (MPICH from
// Debian: scripts/test installs mpich and libmpich-dev).
func mpiProgram(t *testing.T) string {
	t.Helper()
	// mpicc.mpich, not mpicc: with OpenMPI installed beside MPICH, Debian's
	// mpicc alternative may name either.
	if _, err := exec.LookPath("mpicc.mpich"); err != nil {
		testbed.Require(t, "MPICH", "mpicc.mpich is not installed (apt-get install mpich libmpich-dev)")
	}
	mpiHello.once.Do(func() {
		dir, err := os.MkdirTemp("", "flux-mpi-")
		if err != nil {
			mpiHello.err = err
			return
		}
		mpiHello.path = filepath.Join(dir, "mpi_hello")
		out, err := exec.Command("mpicc.mpich", "-O2", "-o", mpiHello.path, "../pmi/testdata/mpi_hello.c").CombinedOutput()
		if err != nil {
			mpiHello.err = fmt.Errorf("mpicc: %v\n%s", err, out)
		}
	})
	if mpiHello.err != nil {
		t.Fatal(mpiHello.err)
	}
	return mpiHello.path
}

// checkRanks asserts that n ranks each reported their rank of n with the
// right Allreduce sum of the ranks.
func checkRanks(t *testing.T, out string, n int) {
	t.Helper()
	sum := n * (n - 1) / 2
	for r := 0; r < n; r++ {
		want := fmt.Sprintf("hello rank=%d size=%d sum=%d ok", r, n, sum)
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
}

// As many ranks as one broker has cores (2 on the CI machine), through the
// capacitor: the ranks find each other through our PMI server. With
// -o pmi=off the same program runs as singletons.
func TestMPIOneBroker(t *testing.T) {
	prog := mpiProgram(t)
	dir := t.TempDir()
	n := runtime.NumCPU()
	if n > 4 {
		n = 4
	}
	r := run(t, dir, fmt.Sprintf("-n%d %s\n", n, prog), "flux-capacitor", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	checkRanks(t, r.stdout, n)
	r = run(t, dir, fmt.Sprintf("-n%d -o pmi=off %s\n", n, prog), "flux-capacitor", "--quiet")
	if r.code != 0 || strings.Count(r.stdout, "hello rank=0 size=1 sum=0 ok") != n {
		t.Errorf("-o pmi=off: exit %d, want %d singletons:\n%s%s", r.code, n, r.stdout, r.stderr)
	}
}

// -N2 -n4 over two brokers: the key-value store crosses the overlay at
// barrier time. Also MPI_Abort, and many small MPI jobs in one file.
func TestMPIAcrossBrokers(t *testing.T) {
	prog := mpiProgram(t)
	dir := t.TempDir()
	var lines []string
	lines = append(lines, "-N2 -n4 "+prog)
	for i := 0; i < 50; i++ {
		lines = append(lines, "-n2 "+prog)
	}
	lines = append(lines, "-N2 -n4 "+prog+" abort")
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	r := run(t, dir, "", "flux", "start", "--test-size=2", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (the abort line fails)\nstderr:\n%s", r.code, r.stderr)
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != 52 {
		t.Fatalf("%d records, want 52", len(rows))
	}
	for seq := 1; seq <= 51; seq++ {
		if rows[fmt.Sprint(seq)][6] != "0" {
			t.Errorf("line %d: exit %s", seq, rows[fmt.Sprint(seq)][6])
		}
	}
	if got := rows["52"][6]; got != "7" {
		t.Errorf("MPI_Abort(7) line: Exitval %s, want 7", got)
	}
	if !strings.Contains(r.stderr, "line 52: task 1 called PMI abort with exit code 7") {
		t.Errorf("stderr lacks the abort message:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "hello rank=3 size=4 sum=6 ok") || strings.Count(r.stdout, "hello rank=1 size=2 sum=1 ok") != 50 {
		t.Errorf("output:\n%s", r.stdout)
	}
	if pids := pgrep(t, prog); len(pids) > 0 {
		t.Errorf("MPI processes left behind: %v", pids)
	}
}

// mpiexec (hydra) starts three brokers as one PMI job; they bootstrap an
// instance through it, and an MPI job runs on all three.
func TestStartUnderMpiexec(t *testing.T) {
	prog := mpiProgram(t)
	mpiexec, err := exec.LookPath("mpiexec.mpich")
	if err != nil {
		testbed.Require(t, "MPICH", "mpiexec.mpich is not installed")
	}
	dir := t.TempDir()
	r := run(t, dir, "", mpiexec, "-n", "3", filepath.Join(bin, "flux"), "start",
		"sh", "-c", "flux resource list -v; flux run -N3 -n3 "+prog)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "\n2 ") {
		t.Errorf("flux resource list does not show 3 ranks:\n%s", r.stdout)
	}
	checkRanks(t, r.stdout, 3)
}
