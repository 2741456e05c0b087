package capacitor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Halt is a --halt condition, as GNU parallel's: when a count (or a share)
// of lines failed, succeeded or were done, stop the run. Soon starts no new
// line and lets the running ones finish; Now also kills the running ones
// (not logged, so --resume runs them again).
type Halt struct {
	Now  bool    // kill running lines; else let them finish
	Why  HaltWhy // HaltNever: no condition
	N    int     // a count of lines (when Pct is 0)
	Pct  float64 // a share of the lines, in percent (0 < Pct <= 100)
	Spec string  // as the user wrote it, for messages
}

// HaltWhy is what a --halt condition counts.
type HaltWhy uint8

const (
	HaltNever   HaltWhy = iota
	HaltFail            // lines that failed (non-zero exit, signal, error)
	HaltSuccess         // lines that succeeded
	HaltDone            // lines that ended either way
)

// haltMinLines is how many lines must have ended before a percentage is
// judged on a stream whose length is unknown: otherwise the first line's
// failure would be 100% of the lines.
const haltMinLines = 10

const haltForms = "use never, or now|soon,fail|success|done=N or =P% (e.g. soon,fail=10%, now,fail=1), or GNU parallel's 0, 1, 2, -1, -2, P%"

// ParseHalt reads a --halt value: never, WHEN,WHY=N, WHEN,WHY=P%, or GNU
// parallel's older forms 0 (never), 1 (soon,fail=1), 2 (now,fail=1), -1
// (soon,success=1), -2 (now,success=1) and P% (soon,fail=P%).
func ParseHalt(s string) (Halt, error) {
	h, err := parseHalt(s)
	if err != nil {
		return Halt{}, fmt.Errorf("--halt %s: %v", shown(s), err)
	}
	return h, nil
}

// shown quotes a value for a message when it holds control characters (a
// newline would break the one-line message).
func shown(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func parseHalt(s string) (Halt, error) {
	h := Halt{Spec: s}
	switch s {
	case "", "never", "0":
		return Halt{}, nil
	case "1":
		h.Why, h.N = HaltFail, 1
		return h, nil
	case "2":
		h.Now, h.Why, h.N = true, HaltFail, 1
		return h, nil
	case "-1":
		h.Why, h.N = HaltSuccess, 1
		return h, nil
	case "-2":
		h.Now, h.Why, h.N = true, HaltSuccess, 1
		return h, nil
	}
	if strings.HasSuffix(s, "%") && !strings.Contains(s, ",") {
		p, err := parsePct(s)
		if err != nil {
			return Halt{}, fmt.Errorf("%v; %s", err, haltForms)
		}
		h.Why, h.Pct = HaltFail, p
		return h, nil
	}
	when, why, ok := strings.Cut(s, ",")
	if !ok {
		return Halt{}, fmt.Errorf("not a halt condition; %s", haltForms)
	}
	switch when {
	case "now":
		h.Now = true
	case "soon":
	default:
		return Halt{}, fmt.Errorf("%q must be now or soon; %s", when, haltForms)
	}
	what, val, ok := strings.Cut(why, "=")
	switch what {
	case "fail":
		h.Why = HaltFail
	case "success":
		h.Why = HaltSuccess
	case "done":
		h.Why = HaltDone
	default:
		return Halt{}, fmt.Errorf("%q must be fail, success or done; %s", what, haltForms)
	}
	if !ok || val == "" {
		return Halt{}, fmt.Errorf("%s needs a count or a percentage, as in %s,%s=1 or %s,%s=10%%", what, when, what, when, what)
	}
	if strings.HasSuffix(val, "%") {
		p, err := parsePct(val)
		if err != nil {
			return Halt{}, err
		}
		h.Pct = p
		return h, nil
	}
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 {
		return Halt{}, fmt.Errorf("%s=%s: the count must be a whole number of at least 1 (or a percentage such as 10%%)", what, shown(val))
	}
	h.N = n
	return h, nil
}

func parsePct(s string) (float64, error) {
	v := strings.TrimSuffix(s, "%")
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
		return 0, fmt.Errorf("%s: the percentage must be a number above 0 and at most 100", shown(s))
	}
	return p, nil
}

// String is the condition in GNU parallel's long form.
func (h Halt) String() string {
	if h.Why == HaltNever {
		return "never"
	}
	s := "soon,"
	if h.Now {
		s = "now,"
	}
	s += [...]string{"", "fail", "success", "done"}[h.Why] + "="
	if h.Pct > 0 {
		return s + strconv.FormatFloat(h.Pct, 'g', -1, 64) + "%"
	}
	return s + strconv.Itoa(h.N)
}

// haltCounts are the final records so far.
type haltCounts struct {
	failed, succeeded int
	total             int // the input's lines when known (files), else 0
}

// reached reports whether the condition holds. A percentage is of the
// input's lines when they are known (as GNU parallel's, of all jobs), else
// of the lines ended so far once haltMinLines have.
func (h Halt) reached(c haltCounts) bool {
	var n int
	switch h.Why {
	case HaltNever:
		return false
	case HaltFail:
		n = c.failed
	case HaltSuccess:
		n = c.succeeded
	case HaltDone:
		n = c.failed + c.succeeded
	}
	if h.Pct == 0 {
		return n >= h.N
	}
	of := c.total
	if of <= 0 {
		of = c.failed + c.succeeded
		if of < haltMinLines {
			return false
		}
	}
	return float64(n)*100 >= h.Pct*float64(of)
}

// exitCode is the run's exit status once the condition halted it, as GNU
// parallel's: for fail=1 the failing line's status; for fail=N and done=N
// the number of failed lines (at most 101); for a percentage of failures
// that percentage; for success, 0.
func (h Halt) exitCode(c haltCounts, lastFailStatus int) int {
	capped := func(n int) int {
		if n > 101 {
			return 101
		}
		return n
	}
	switch h.Why {
	case HaltSuccess:
		return 0
	case HaltDone:
		return capped(c.failed)
	}
	if h.Pct > 0 {
		of := c.total
		if of <= 0 {
			of = c.failed + c.succeeded
		}
		p := 100
		if of > 0 {
			p = int(math.Ceil(float64(c.failed) * 100 / float64(of)))
		}
		return max(1, min(p, 100))
	}
	if h.N == 1 {
		if lastFailStatus <= 0 || lastFailStatus > 255 {
			return 1
		}
		return lastFailStatus
	}
	return capped(c.failed)
}
