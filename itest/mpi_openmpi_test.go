package itest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// libPMIMissing says why TestMain could not build the PMI libraries ("" when
// they are in bin/../lib/flux).
var libPMIMissing string

// buildLibPMI builds libpmi.so and libpmi2.so into dir as scripts/build
// does. Without a C compiler the OpenMPI tests skip (fail under CI).
func buildLibPMI(dir string) error {
	if _, err := exec.LookPath("cc"); err != nil {
		libPMIMissing = "no C compiler (cc) to build libpmi.so: apt-get install gcc"
		return nil
	}
	cmd := exec.Command("bash", "../pmi/libpmi/build.sh", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building libpmi.so: %v", err)
	}
	return nil
}

var ompiHello struct {
	once sync.Once
	path string
	err  error
}

// openMPIProgram compiles pmi/testdata/mpi_hello.c with OpenMPI's compiler
// (mpicc.openmpi: Debian's openmpi-bin and libopenmpi-dev, installed beside
// MPICH by scripts/test) once per test binary.
func openMPIProgram(t *testing.T) string {
	t.Helper()
	if libPMIMissing != "" {
		testbed.Require(t, "libpmi.so", libPMIMissing)
	}
	if _, err := exec.LookPath("mpicc.openmpi"); err != nil {
		testbed.Require(t, "OpenMPI", "mpicc.openmpi is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	ompiHello.once.Do(func() {
		dir, err := os.MkdirTemp("", "flux-ompi-")
		if err != nil {
			ompiHello.err = err
			return
		}
		ompiHello.path = filepath.Join(dir, "mpi_hello_ompi")
		out, err := exec.Command("mpicc.openmpi", "-O2", "-o", ompiHello.path, "../pmi/testdata/mpi_hello.c").CombinedOutput()
		if err != nil {
			ompiHello.err = fmt.Errorf("mpicc.openmpi: %v\n%s", err, out)
		}
	})
	if ompiHello.err != nil {
		t.Fatal(ompiHello.err)
	}
	return ompiHello.path
}

// openMPIEnv is what OpenMPI needs in this test environment, not in the
// product: TCP between ranks on loopback only (the machine's other
// interfaces are not for test traffic), and the transports pinned to
// shared memory, self and TCP so that a missing InfiniBand or UCX device
// is not probed. Run as root, direct launch needs no
// OMPI_ALLOW_RUN_AS_ROOT (only mpirun checks it).
var openMPIEnv = []string{
	"OMPI_MCA_btl=self,vader,tcp",
	"OMPI_MCA_pml=ob1",
	"OMPI_MCA_btl_tcp_if_include=lo",
}

func withOpenMPIEnv(t *testing.T) {
	for _, kv := range openMPIEnv {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// checkOpenMPIRuns asserts that the job log has want records, each with
// exit 0 except those in codes, and that the output holds runs*n ok lines
// of n ranks and no bad one.
func checkOpenMPIRuns(t *testing.T, r result, log string, want int, codes map[string]string, n, runs int) {
	t.Helper()
	rows := joblog(t, log)
	if len(rows) != want {
		t.Fatalf("%d records, want %d\nstderr:\n%s", len(rows), want, r.stderr)
	}
	for seq := 1; seq <= want; seq++ {
		s := fmt.Sprint(seq)
		code := codes[s]
		if code == "" {
			code = "0"
		}
		if rows[s][6] != code {
			t.Errorf("line %d: Exitval %s, want %s", seq, rows[s][6], code)
		}
	}
	sum := n * (n - 1) / 2
	for rank := 0; rank < n; rank++ {
		line := fmt.Sprintf("hello rank=%d size=%d sum=%d ok", rank, n, sum)
		if got := strings.Count(r.stdout, line); got < runs {
			t.Errorf("%q %d times, want %d at least\nstdout:\n%s\nstderr:\n%s", line, got, runs, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout, " bad") {
		t.Errorf("a rank saw a wrong Allreduce sum:\n%s", r.stdout)
	}
}

// Ten OpenMPI jobs of 2 ranks on one broker in a row: each bootstraps
// through libpmi.so, which OpenMPI's flux component dlopens from
// FLUX_PMI_LIBRARY_PATH because FLUX_JOB_ID is set.
func TestOpenMPIOneBroker(t *testing.T) {
	prog := openMPIProgram(t)
	withOpenMPIEnv(t)
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Repeat("-n2 "+prog+"\n", 10))
	r := run(t, dir, "", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	if r.code != 0 {
		t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	checkOpenMPIRuns(t, r, filepath.Join(dir, "log"), 10, nil, 2, 10)
	// A single task gets no PMI server, but the library: it makes the task
	// a singleton, as MPICH is without PMI.
	r = run(t, dir, "-n1 "+prog+"\n", "flux-capacitor", "--quiet")
	if r.code != 0 || strings.Count(r.stdout, "hello rank=0 size=1 sum=0 ok") != 1 {
		t.Errorf("singleton: exit %d, want 1 of size 1:\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Parts served PMI get the library's directory in LD_LIBRARY_PATH, for
	// MPIs linked against libpmi.so.0; a single task only its path (the
	// loader's probes of that directory would slow every exec); -o pmi=off
	// neither, as Flux does.
	libDir := filepath.Join(filepath.Dir(bin), "lib", "flux")
	lib := filepath.Join(libDir, "libpmi.so")
	show := " sh -c 'echo lib=$FLUX_PMI_LIBRARY_PATH ld=$LD_LIBRARY_PATH.'\n"
	r = run(t, dir, "-n2 -o pmi=off"+show+"-n1"+show+"-n2"+show, "flux-capacitor", "--quiet")
	for _, c := range []struct {
		want string
		n    int
	}{
		{"lib= ld=" + os.Getenv("LD_LIBRARY_PATH") + ".\n", 2},
		{"lib=" + lib + " ld=" + os.Getenv("LD_LIBRARY_PATH") + ".\n", 1},
		{"lib=" + lib + " ld=" + libDir, 2},
	} {
		if r.code != 0 || strings.Count(r.stdout, c.want) != c.n {
			t.Errorf("want %q %d times:\n%s%s", c.want, c.n, r.stdout, r.stderr)
		}
	}
}

// Ten 4-rank OpenMPI jobs across two brokers (2 ranks each), then one that
// calls MPI_Abort(7): it ends with 7 and leaves no rank behind.
func TestOpenMPIAcrossBrokers(t *testing.T) {
	prog := openMPIProgram(t)
	withOpenMPIEnv(t)
	dir := t.TempDir()
	shmBefore, _ := filepath.Glob("/dev/shm/flux-*")
	cmds := strings.Repeat("-N2 -n4 "+prog+"\n", 10) + "-N2 -n4 " + prog + " abort\n"
	f := writeFile(t, filepath.Join(dir, "cmds"), cmds)
	r := run(t, dir, "", "flux", "start", "--test-size=2", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (the abort line fails)\nstderr:\n%s", r.code, r.stderr)
	}
	checkOpenMPIRuns(t, r, filepath.Join(dir, "log"), 11, map[string]string{"11": "7"}, 4, 10)
	if !strings.Contains(r.stderr, "line 11: task 1 called PMI abort with exit code 7") {
		t.Errorf("stderr lacks the abort message:\n%s", r.stderr)
	}
	if pids := pgrep(t, prog); len(pids) > 0 {
		t.Errorf("MPI processes left behind: %v", pids)
	}
	// Each part's shared-memory directory goes with the part, the aborted
	// ones' too.
	if shmAfter, _ := filepath.Glob("/dev/shm/flux-*"); len(shmAfter) > len(shmBefore) {
		t.Errorf("job part directories left in /dev/shm: %v (before the run: %v)", shmAfter, shmBefore)
	}
}

// flux run: an MPI_Abort ends the job with its code, as flux run's exit
// status.
func TestOpenMPIRunAbort(t *testing.T) {
	prog := openMPIProgram(t)
	withOpenMPIEnv(t)
	dir := t.TempDir()
	r := run(t, dir, "", "flux", "start", "flux", "run", "-n2", prog, "abort")
	if r.code != 7 {
		t.Errorf("exit %d, want 7\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// The same under Slurm: sbatch -N2 runs a capacitor over both nodes, whose
// 4-rank OpenMPI lines span them and whose abort line ends with its code.
func TestSlurmOpenMPI(t *testing.T) {
	testbed.Slurm(t)
	prog := openMPIProgram(t)
	withOpenMPIEnv(t) // sbatch exports the environment to the job
	dir := t.TempDir()
	cmds := strings.Repeat("-N2 -n4 "+prog+"\n", 3) + "-n2 " + prog + "\n-N2 -n4 " + prog + " abort\n"
	writeFile(t, filepath.Join(dir, "cmds"), cmds)
	out, err := sbatchWait(t, dir, "-N2", "-o", "job.out",
		"--wrap", "flux-capacitor --quiet --joblog log --command_file cmds; echo capacitor-exit=$?")
	got := readFile(t, filepath.Join(dir, "job.out"))
	if err != nil || !strings.Contains(got, "capacitor-exit=1") {
		t.Fatalf("sbatch: %v %s\njob output:\n%s", err, out, got)
	}
	checkOpenMPIRuns(t, result{stdout: got}, filepath.Join(dir, "log"), 5, map[string]string{"5": "7"}, 4, 3)
	if !strings.Contains(got, "hello rank=1 size=2 sum=1 ok") {
		t.Errorf("the -n2 line did not run:\n%s", got)
	}
}
