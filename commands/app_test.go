package commands

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeShortFlags(t *testing.T) {
	for in, want := range map[string]string{
		"flux submit -n4 -ocpu-affinity=off echo -n2": "flux submit -n=4 -o=cpu-affinity=off echo -n2",
		"flux jobs -n -c2 -a":                         "flux jobs -n -c=2 -a",
		"flux run -t30s -l true":                      "flux run -t=30s -l true",
		"flux job kill -sUSR1 f1":                     "flux job kill -s=USR1 f1",
		"flux bulksubmit -n2 echo {} ::: a":           "flux bulksubmit -n=2 echo {} ::: a",
	} {
		got := normalizeShortFlags(strings.Fields(in))
		if !reflect.DeepEqual(got, strings.Fields(want)) {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}
