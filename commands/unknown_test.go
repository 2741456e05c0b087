package commands

import (
	"reflect"
	"testing"
)

func TestCloseMatches(t *testing.T) {
	names := []string{"job", "jobs", "submit", "bulksubmit", "run", "resource", "start"}
	for s, want := range map[string][]string{
		"jobz":       {"job", "jobs"},
		"submti":     {"submit"},
		"frobnicate": {},
		"sta":        {"start"},
		"r":          {},
	} {
		got := closeMatches(s, names)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("closeMatches(%q) = %q, want %q", s, got, want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d, want 3", d)
	}
}
