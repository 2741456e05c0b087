package capacitor

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	cases := []struct {
		p    Progress
		want []string
		not  []string
	}{
		{Progress{Done: 40, Failed: 5, Errors: 5, Retried: 3, Running: 10, Total: 100, Elapsed: 10 * time.Second},
			[]string{"40 done, 10 failed, 3 retried, 10 running, 40 pending (of 100 lines)", "5.0 lines/s", "ETA 10s", "elapsed 10s"}, nil},
		// A stream: no total, no ETA; pending is what waits here.
		{Progress{Done: 10, Running: 2, Queued: 5, Elapsed: 2 * time.Second},
			[]string{"10 done, 0 failed, 2 running, 5 pending; 5.0 lines/s, elapsed 2s"}, []string{"ETA", "of "}},
		// --resume: skipped lines are not left to do.
		{Progress{Done: 10, Skipped: 80, Total: 100, Elapsed: 10 * time.Second},
			[]string{"10 pending (of 100 lines)", "ETA 10s"}, nil},
		{Progress{Halted: true, Elapsed: time.Second}, []string{"; halting"}, []string{"ETA"}},
	}
	for _, c := range cases {
		got := c.p.Line()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", c.p, got, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%+v: %q has %q", c.p, got, w)
			}
		}
	}
}
