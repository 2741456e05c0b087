package capacitor

import (
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strings"
	"testing"

	"github.com/fluxtaskfarm/flux/broker"
)

// The scheduling options of a line: --urgency and --dependency, over the
// capacitor's defaults.
func TestUrgencyAndDependencyOptions(t *testing.T) {
	sixteen, three := 16, 3
	def := Defaults{Urgency: &three, Deps: []broker.Dependency{{Type: "afterany", ID: 7}}}
	for _, tc := range []struct {
		seq     int
		text    string
		def     Defaults
		urgency *int
		deps    string
		err     string
	}{
		{5, "true", Defaults{}, nil, "", ""},
		{5, "--urgency 16 true", Defaults{}, &sixteen, "", ""},
		{5, "--urgency=hold true", Defaults{}, new(int), "", ""},
		{5, "--urgency=expedite true", def, func() *int { u := 31; return &u }(), "afterany:" + jobid.String(7), ""},
		{5, "true", def, &three, "afterany:" + jobid.String(7), ""},
		{5, "--dependency=afterok:line:4 --dependency after:12 true", def, &three, "afterany:" + jobid.String(7) + " afterok:line:4 after:" + jobid.String(12), ""},
		{5, "--dependency afternotok:line:1 -n2 true", Defaults{}, nil, "afternotok:line:1", ""},
		{5, "--urgency 32 true", Defaults{}, nil, "", `--urgency "32": want 0 (hold) to 31`},
		{5, "--urgency=-1 true", Defaults{}, nil, "", `--urgency "-1"`},
		{5, "--urgency true", Defaults{}, nil, "", `--urgency "true"`},
		{5, "--urgency", Defaults{}, nil, "", "--urgency needs a value, as in --urgency 16"},
		{5, "--dependency=afterok:line:5 true", Defaults{}, nil, "", "--dependency afterok:line:5: line 5 is not before this line"},
		{5, "--dependency=afterok:line:9 true", Defaults{}, nil, "", "line 9 is not before this line"},
		{5, "--dependency=afterok true", Defaults{}, nil, "", `--dependency "afterok": want TYPE:ID`},
		{5, "--dependency=begin-time:10 true", Defaults{}, nil, "", `unknown dependency type "begin-time"`},
		{5, "--dependency=afterok:line:0 true", Defaults{}, nil, "", "want a line number of 1 or more"},
		{5, "--dependency=afterok:0 true", Defaults{}, nil, "", `"0" is not a job id`},
	} {
		l, _, err := ParseLine(tc.seq, tc.text, tc.def, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if (l.Urgency == nil) != (tc.urgency == nil) || (l.Urgency != nil && *l.Urgency != *tc.urgency) {
			t.Errorf("%q: urgency %v, want %v", tc.text, l.Urgency, tc.urgency)
		}
		var deps []string
		for _, d := range l.Deps {
			deps = append(deps, d.String())
		}
		if got := strings.Join(deps, " "); got != tc.deps {
			t.Errorf("%q: deps %q, want %q", tc.text, got, tc.deps)
		}
	}
	if len(def.Deps) != 1 {
		t.Errorf("a line's --dependency changed the defaults: %v", def.Deps)
	}
}

// A line dependency counts lines within the line's own file; the second
// file's line 3 naming line:1 waits for that file's line 1.
func TestLineDepsToSeq(t *testing.T) {
	l := Line{Seq: 13, Deps: []broker.Dependency{{Type: "afterok", Line: 1}, {Type: "after", ID: 4}}}
	shared := l.Deps
	if msg := lineDepsToSeq(&l, 13, 3); msg != "" || l.Deps[0].Line != 11 || l.Deps[1].ID != 4 {
		t.Errorf("got %q, %+v", msg, l.Deps)
	}
	if shared[0].Line != 1 {
		t.Error("the conversion wrote into a shared array")
	}
	l = Line{Seq: 13, Deps: []broker.Dependency{{Type: "afterok", Line: 3}}}
	if msg := lineDepsToSeq(&l, 13, 3); !strings.Contains(msg, "line 3 is not before this line") {
		t.Errorf("self reference in a second file: %q", msg)
	}
}

func TestOutcomeRing(t *testing.T) {
	var o outcomeRing
	if _, _, found := o.lookup(1); found {
		t.Fatal("empty ring found a line")
	}
	o.record(1, true, false)
	o.record(2, true, true)
	o.record(2+keepOutcomes, false, false) // evicts 2
	if s, ok, found := o.lookup(1); !found || !s || ok {
		t.Errorf("line 1: %v %v %v", s, ok, found)
	}
	if _, _, found := o.lookup(2); found {
		t.Error("line 2 was not evicted")
	}
	if s, ok, found := o.lookup(2 + keepOutcomes); !found || s || ok {
		t.Errorf("line 2+keep: %v %v %v", s, ok, found)
	}
	o.put(7, outcomeDeferred)
	if _, _, found := o.lookup(7); found || !o.deferred(7) || o.deferred(1) {
		t.Errorf("a deferred line: found %v, deferred %v; line 1 deferred %v", found, o.deferred(7), o.deferred(1))
	}
}
