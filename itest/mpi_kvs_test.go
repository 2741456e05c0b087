package itest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// pmiCheckProgram compiles pmi/testdata/libpmi_check.c against the built
// libpmi.so without an rpath: the tasks find libpmi.so.0 through the
// LD_LIBRARY_PATH that the broker prepends.
func pmiCheckProgram(t *testing.T, dir string) string {
	t.Helper()
	if libPMIMissing != "" {
		testbed.Require(t, "libpmi.so", libPMIMissing)
	}
	lib := filepath.Join(filepath.Dir(bin), "lib", "flux")
	prog := filepath.Join(dir, "pmi_check")
	out, err := exec.Command("cc", "-O1", "-o", prog, "../pmi/testdata/libpmi_check.c", "-I../pmi/libpmi", "-L"+lib, "-lpmi").CombinedOutput()
	if err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	return prog
}

// The key exchange reduced up a tree of fanout 2 (0 -> 1,2; 1 -> 3,4;
// 2 -> 5,6): with ranks 0-2 busy, the PMI jobs land below them, so brokers
// with no part of a job (rank 1 for a job on 3 and 4; 0, 1 and 2 for one on
// 3-6) reduce for their children. Every rank checks every other rank's key
// after each barrier.
func TestPMIExchangeUpTheTree(t *testing.T) {
	dir := t.TempDir()
	prog := pmiCheckProgram(t, dir)
	bench := fmt.Sprintf(`sh -c 'echo "$FLUX_URI"; exec %s bench 4'`, prog)
	cmds := "-N3 -n6 sleep 2\n" + "-N2 -n2 " + bench + "\n-N2 -n2 " + bench + "\n-N4 -n4 " + bench + "\n-N7 -n7 " + bench + "\n"
	f := writeFile(t, filepath.Join(dir, "cmds"), cmds)
	r := run(t, dir, "", "flux", "start", "--test-size=7", "-Stbon.fanout=2", "flux-capacitor", "--quiet",
		"--joblog", "log", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "FAIL") {
		t.Errorf("a rank did not see another's key:\n%s", r.stdout)
	}
	for _, n := range []int{2, 4, 7} {
		if !strings.Contains(r.stdout, fmt.Sprintf("bench size=%d rounds=4 round=", n)) {
			t.Errorf("no bench line of the %d-rank job:\n%s", n, r.stdout)
		}
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	for seq := 1; seq <= 5; seq++ {
		if got := rows[fmt.Sprint(seq)][6]; got != "0" {
			t.Errorf("line %d: Exitval %s", seq, got)
		}
	}
	t.Logf("brokers the tasks ran on: %v", ranksIn(r.stdout))
}
