package broker

import (
	"strings"
	"testing"
)

func TestParseDependency(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Dependency
		err  string
	}{
		{"afterok:12", Dependency{Type: "afterok", ID: 12}, ""},
		{"afterany:1", Dependency{Type: "afterany", ID: 1}, ""},
		{"afternotok:99", Dependency{Type: "afternotok", ID: 99}, ""},
		{"after:3", Dependency{Type: "after", ID: 3}, ""},
		{"afterok:line:12", Dependency{Type: "afterok", Line: 12}, ""},
		{"afterok", Dependency{}, "want TYPE:ID"},
		{"afterok:", Dependency{}, "want TYPE:ID"},
		{":12", Dependency{}, "want TYPE:ID"},
		{"singleton:1", Dependency{}, `unknown dependency type "singleton"; valid: after, afterany, afterok, afternotok`},
		{"afterok:x", Dependency{}, `"x" is not a job id`},
		{"afterok:-1", Dependency{}, "is not a job id"},
		{"afterok:0", Dependency{}, "is not a job id"},
		{"afterok:line:", Dependency{}, "line number of 1 or more"},
		{"afterok:line:-2", Dependency{}, "line number of 1 or more"},
		{"afterok:line:x", Dependency{}, "line number of 1 or more"},
	} {
		got, err := ParseDependency(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		// Job ids print in f58, as Flux prints them; they read back.
		if back, err := ParseDependency(got.String()); err != nil || back != got {
			t.Errorf("%q prints as %q, which reads back as %+v, %v", tc.in, got.String(), back, err)
		}
	}
}

// depCheck as RFC 26 defines the types.
func TestDepCheck(t *testing.T) {
	type st struct{ started, ended, ok bool }
	running, succeeded, failed, neverRan := st{true, false, false}, st{true, true, true}, st{true, true, false}, st{false, true, false}
	for _, tc := range []struct {
		typ  string
		s    st
		want depVerdict
	}{
		{DepAfter, st{}, depWait}, {DepAfter, running, depMet}, {DepAfter, failed, depMet}, {DepAfter, neverRan, depNever},
		{DepAfterAny, running, depWait}, {DepAfterAny, failed, depMet}, {DepAfterAny, neverRan, depMet},
		{DepAfterOK, running, depWait}, {DepAfterOK, succeeded, depMet}, {DepAfterOK, failed, depNever}, {DepAfterOK, neverRan, depNever},
		{DepAfterNotOK, running, depWait}, {DepAfterNotOK, succeeded, depNever}, {DepAfterNotOK, failed, depMet}, {DepAfterNotOK, neverRan, depMet},
	} {
		if got := depCheck(tc.typ, tc.s.started, tc.s.ended, tc.s.ok); got != tc.want {
			t.Errorf("%s on %+v = %d, want %d", tc.typ, tc.s, got, tc.want)
		}
	}
}

func FuzzParseDependency(f *testing.F) {
	for _, s := range []string{"afterok:12", "after:line:3", "afterany:", ":", "afternotok:18446744073709551615", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDependency(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if (d.ID == 0) == (d.Line == 0) {
			t.Fatalf("%q: %+v names neither or both a job and a line", s, d)
		}
		back, err := ParseDependency(d.String())
		if err != nil || back != d {
			t.Fatalf("%q: %+v does not round-trip: %+v, %v", s, d, back, err)
		}
	})
}
