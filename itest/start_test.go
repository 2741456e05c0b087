package itest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// f58Line matches "submitted ID" with an f58 job id (ƒ, or f in a locale
// that is not UTF-8).
var f58Line = regexp.MustCompile(`(?m)^submitted (ƒ|f)[1-9A-HJ-NP-Za-km-z]+$`)

// flux start runs its command inside an instance that flux submit, jobs,
// cancel, run and resource list reach through FLUX_URI.
func TestStartSubmitJobsCancelRun(t *testing.T) {
	dir := t.TempDir()
	script := `
set -e
id=$(flux submit -n1 sleep 30)
echo "submitted $id"
flux jobs
flux cancel "$id"
flux job status "$id" || true   # the cancel has taken effect once it returns
flux jobs -a --json > jobs.json
flux run -n2 --label-io sh -c 'echo hi from $FLUX_TASK_RANK'
flux resource list
set +e
flux run sh -c 'exit 3'
echo "run status $?"
flux run no_such_command_xyz
echo "missing status $?"
`
	r := run(t, dir, "", "flux", "start", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"JOBID", " R ", "sleep",
		"0: hi from 0", "1: hi from 1",
		"STATE", "free",
		"run status 3", "missing status 127",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\nstdout:\n%s\nstderr:\n%s", want, r.stdout, r.stderr)
		}
	}
	if !f58Line.MatchString(r.stdout) {
		t.Errorf("flux submit printed no f58 job id:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "no_such_command_xyz: command not found") {
		t.Errorf("stderr lacks the command-not-found message:\n%s", r.stderr)
	}
	js := readFile(t, filepath.Join(dir, "jobs.json"))
	if !strings.Contains(js, `"result":"CANCELED"`) {
		t.Errorf("flux jobs -a --json does not show the canceled job:\n%s", js)
	}
}

// The issue's own example, and the capacitor inside an explicit instance.
func TestStartWithCapacitor(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cmds"), "echo one\n-n1 echo two\n")
	r := run(t, dir, "", "flux", "start", "--test-size=1", "sh", "-c",
		"flux submit -n2 sleep 1 && flux jobs && flux-capacitor --quiet --command_file cmds")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "one\n") || !strings.Contains(r.stdout, "two\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// flux start exits with its command's status; the socket directory is private
// and gone afterwards.
func TestStartStatusAndSocket(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "", "flux", "start", "sh", "-c", `d=$(dirname "${FLUX_URI#local://}"); stat -c %a "$d" > mode; echo "$d" > where; exit 7`)
	if r.code != 7 {
		t.Fatalf("exit %d, want 7: %s", r.code, r.stderr)
	}
	if mode := strings.TrimSpace(readFile(t, filepath.Join(dir, "mode"))); mode != "700" {
		t.Errorf("socket directory mode %s, want 700", mode)
	}
	if _, err := os.Stat(strings.TrimSpace(readFile(t, filepath.Join(dir, "where")))); err == nil {
		t.Error("socket directory left behind")
	}
	if r := run(t, dir, "", "flux", "submit", "true"); r.code != 2 || !strings.Contains(r.stderr, "FLUX_URI is not set") {
		t.Errorf("flux submit outside an instance: exit %d, %q", r.code, r.stderr)
	}
}
