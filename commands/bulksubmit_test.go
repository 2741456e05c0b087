package commands

import (
	"reflect"
	"strings"
	"testing"
)

func TestFormatInput(t *testing.T) {
	vals := []string{"dir/sub/file.tar.gz", "x"}
	for tmpl, want := range map[string]string{
		"{}":                  "dir/sub/file.tar.gz",
		"{} {}":               "dir/sub/file.tar.gz x",
		"{0}-{1}":             "dir/sub/file.tar.gz-x",
		"{.%}":                "dir/sub/file.tar",
		"{./}":                "file.tar.gz",
		"{./%}":               "file.tar",
		"{.//}":               "dir/sub",
		"{0.}|{0/}|{0//}":     "dir/sub/file.tar|file.tar.gz|dir/sub",
		"{1./}":               "x",
		"{seq}:{seq1}":        "4:5",
		"cc={cc} {{cc}}":      "cc=7 7",
		"out.{{id}}.{{line}}": "out.{{id}}.{{line}}",
		"a}}b":                "a}b",
		"plain":               "plain",
	} {
		got, err := formatInput(tmpl, vals, 4, "7")
		if err != nil || got != want {
			t.Errorf("formatInput(%q) = %q, %v; want %q", tmpl, got, err, want)
		}
	}
	for tmpl, msg := range map[string]string{
		"{2}": "indexes go from 0 to 1", "{} {} {}": "indexes go from 0 to 1", "{nope}": "unknown replacement",
		"{": "unclosed {", "{{x": "unclosed {{", "{0.q}": "unknown replacement",
	} {
		if _, err := formatInput(tmpl, vals, 0, ""); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("formatInput(%q): %v, want %q", tmpl, err, msg)
		}
	}
}

func TestSplitInputsAndCombinations(t *testing.T) {
	cmd, lists, err := splitInputs(strings.Fields("echo {0} {1} {2} ::: a b ::: 1 2 :::+ x y z"), strings.NewReader(""))
	if err != nil || strings.Join(cmd, " ") != "echo {0} {1} {2}" || len(lists) != 3 || !lists[2].linked {
		t.Fatalf("cmd %q lists %+v err %v", cmd, lists, err)
	}
	var got []string
	combinations(lists, func(v []string) error { got = append(got, strings.Join(v, "")); return nil })
	if want := []string{"a1x", "a2y", "b1x", "b2y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("combinations = %q, want %q", got, want)
	}
	// Without lists, stdin's lines are the inputs.
	_, lists, err = splitInputs([]string{"echo"}, strings.NewReader("p\n\nq\n"))
	if err != nil || !reflect.DeepEqual(lists[0].items, []string{"p", "q"}) {
		t.Errorf("stdin inputs %+v, %v", lists, err)
	}
	for _, bad := range []string{"echo :::", "echo :::+ a", "echo :::: /nonexistent/file"} {
		if _, _, err := splitInputs(strings.Fields(bad), strings.NewReader("")); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzFormatInput(f *testing.F) {
	for _, s := range []string{"{}", "{0.%} {1./}", "{{id}} {seq1}", "}}{{", "{", "{0.//}{cc}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		out, err := formatInput(tmpl, []string{"a/b.c", "d"}, 3, "9")
		if err != nil {
			return
		}
		if !strings.ContainsAny(tmpl, "{}") && out != tmpl {
			t.Fatalf("%q changed to %q without a replacement", tmpl, out)
		}
	})
}
