package launcher

import (
	"strings"
	"testing"
	"time"
)

// -o exit-timeout: once task 0 has exited, task 1 gets the timeout, then
// SIGTERM; the result says why.
func TestExitTimeout(t *testing.T) {
	l := New(Options{KillGrace: time.Second})
	start := time.Now()
	r := run(t, l, &Spec{JobID: 1, ExitTimeout: 200 * time.Millisecond, Tasks: tasks(2),
		Argv: sh(`if [ "$FLUX_TASK_RANK" = 0 ]; then exit 0; fi; sleep 10`)})
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v; the exit timeout should have ended it", el)
	}
	if !strings.Contains(r.Err, "exit-timeout") || r.Status != 143 {
		t.Errorf("err %q status %d, want an exit-timeout and 143", r.Err, r.Status)
	}
	// Tasks that end together are not touched.
	r = run(t, l, &Spec{JobID: 2, ExitTimeout: 200 * time.Millisecond, Tasks: tasks(2), Argv: sh("sleep 0.1")})
	if r.Err != "" || r.Status != 0 {
		t.Errorf("err %q status %d", r.Err, r.Status)
	}
}
