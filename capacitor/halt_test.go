package capacitor

import (
	"strings"
	"testing"
)

func TestParseHalt(t *testing.T) {
	cases := []struct {
		in   string
		want string // String() of the result, or "error: <part of the message>"
	}{
		{"never", "never"},
		{"", "never"},
		{"0", "never"},
		{"1", "soon,fail=1"},
		{"2", "now,fail=1"},
		{"-1", "soon,success=1"},
		{"-2", "now,success=1"},
		{"10%", "soon,fail=10%"},
		{"now,fail=1", "now,fail=1"},
		{"soon,fail=3", "soon,fail=3"},
		{"soon,fail=3%", "soon,fail=3%"},
		{"now,success=1", "now,success=1"},
		{"soon,success=3", "soon,success=3"},
		{"now,success=3%", "now,success=3%"},
		{"now,done=1", "now,done=1"},
		{"soon,done=3", "soon,done=3"},
		{"now,done=2.5%", "now,done=2.5%"},
		{"now", "error: not a halt condition"},
		{"soon,fail", "error: fail needs a count or a percentage"},
		{"soon,fail=", "error: fail needs a count or a percentage"},
		{"soon,fail=0", "error: the count must be a whole number of at least 1"},
		{"soon,fail=-3", "error: the count must be"},
		{"soon,fail=x", "error: the count must be"},
		{"later,fail=1", `error: "later" must be now or soon`},
		{"now,oops=1", `error: "oops" must be fail, success or done`},
		{"now,fail=0%", "error: the percentage must be a number above 0 and at most 100"},
		{"now,fail=101%", "error: the percentage must be"},
		{"now,fail=NaN%", "error: the percentage must be"},
		{"150%", "error: the percentage must be"},
		{"3", "error: not a halt condition"},
	}
	for _, c := range cases {
		h, err := ParseHalt(c.in)
		got := h.String()
		if err != nil {
			got = "error: " + err.Error()
			if !strings.HasPrefix(err.Error(), "--halt "+c.in+":") {
				t.Errorf("ParseHalt(%q): error %q does not name the option and value", c.in, err)
			}
		}
		if !strings.HasPrefix(got, c.want) && !(strings.HasPrefix(c.want, "error: ") && strings.Contains(got, strings.TrimPrefix(c.want, "error: "))) {
			t.Errorf("ParseHalt(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHaltReachedAndExitCode(t *testing.T) {
	parse := func(s string) Halt {
		h, err := ParseHalt(s)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cases := []struct {
		spec     string
		c        haltCounts
		reached  bool
		code     int
		lastFail int
	}{
		{"now,fail=1", haltCounts{failed: 1}, true, 3, 3},
		{"now,fail=1", haltCounts{failed: 1}, true, 137, 137},
		{"now,fail=1", haltCounts{succeeded: 5}, false, 0, 0},
		{"soon,fail=2", haltCounts{failed: 1, succeeded: 9}, false, 1, 4},
		{"soon,fail=2", haltCounts{failed: 2}, true, 2, 4},
		{"soon,fail=200", haltCounts{failed: 200}, true, 101, 4},
		// Of the input's lines when known, as GNU parallel.
		{"soon,fail=50%", haltCounts{failed: 2, total: 4}, true, 50, 4},
		{"soon,fail=50%", haltCounts{failed: 1, succeeded: 0, total: 4}, false, 25, 4},
		// A stream: of the lines ended, from the 10th on.
		{"soon,fail=10%", haltCounts{failed: 1}, false, 100, 1},
		{"soon,fail=10%", haltCounts{failed: 1, succeeded: 9}, true, 10, 1},
		{"soon,fail=10%", haltCounts{failed: 1, succeeded: 10}, false, 10, 1},
		{"now,success=1", haltCounts{succeeded: 1, failed: 3}, true, 0, 1},
		{"soon,success=50%", haltCounts{succeeded: 2, total: 4}, true, 0, 0},
		{"now,done=2", haltCounts{succeeded: 1, failed: 1}, true, 1, 1},
		{"now,done=2", haltCounts{succeeded: 2}, true, 0, 0},
		{"never", haltCounts{failed: 100}, false, 0, 0},
	}
	for _, c := range cases {
		h := parse(c.spec)
		if got := h.reached(c.c); got != c.reached {
			t.Errorf("%s with %+v: reached %v, want %v", c.spec, c.c, got, c.reached)
		}
		if c.reached {
			if got := h.exitCode(c.c, c.lastFail); got != c.code {
				t.Errorf("%s with %+v: exit %d, want %d", c.spec, c.c, got, c.code)
			}
		}
	}
}

func FuzzParseHalt(f *testing.F) {
	for _, s := range []string{"never", "now,fail=1", "soon,fail=10%", "now,success=3%", "soon,done=2", "2", "-1", "5%", "now,fail=1e2%", "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHalt(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--halt ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseHalt(%q): error %q is not one line naming --halt", s, err)
			}
			return
		}
		if h.Why == HaltNever {
			return
		}
		if (h.Pct > 0) == (h.N > 0) || h.Pct > 100 || h.N < 0 {
			t.Fatalf("ParseHalt(%q) = %+v: exactly one of a count >= 1 or a percentage in (0,100]", s, h)
		}
		// The long form reads back as the same condition.
		h2, err := ParseHalt(h.String())
		if err != nil || h2.Now != h.Now || h2.Why != h.Why || h2.N != h.N || h2.Pct != h.Pct {
			t.Fatalf("ParseHalt(%q).String() = %q reads back as %+v, %v", s, h.String(), h2, err)
		}
	})
}
