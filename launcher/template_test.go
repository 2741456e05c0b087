package launcher

import (
	"strings"
	"testing"
)

func TestExpandTemplate(t *testing.T) {
	cases := []struct{ tmpl, want string }{
		{"out.log", "out.log"},
		{"flux-{{id}}.out", "flux-42.out"},
		{"{{id}}-{{line}}-{{task.id}}", "42-17-3"},
		{"{{ id }}/{{task.id}}.err", "42/3.err"},
		{"{{name}}-{{id}}", "{{name}}-42"},
		{"{{{{id}}", "{{42"},
		{"open {{id", "open {{id"},
		{"{{}}x", "{{}}x"},
		{"a}}b{{line}}", "a}}b17"},
	}
	for _, c := range cases {
		if got := expandTemplate(c.tmpl, 42, 17, 3); got != c.want {
			t.Errorf("expandTemplate(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
}

// naiveExpand is the model: walk the template one byte at a time and
// replace "{{key}}" wherever a known key starts.
func naiveExpand(tmpl string, vals map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if strings.HasPrefix(tmpl[i:], "{{") {
			if end := strings.Index(tmpl[i+2:], "}}"); end >= 0 {
				if v, ok := vals[strings.TrimSpace(tmpl[i+2:i+2+end])]; ok {
					b.WriteString(v)
					i += end + 4
					continue
				}
			}
		}
		b.WriteByte(tmpl[i])
		i++
	}
	return b.String()
}

func FuzzExpandTemplate(f *testing.F) {
	for _, s := range []string{"flux-{{id}}.out", "{{id}}-{{line}}-{{task.id}}", "{{{{id}}}}", "{{x}}{{", "plain", "{{ line }}"} {
		f.Add(s)
	}
	vals := map[string]string{"id": "1234567", "line": "89", "task.id": "5"}
	f.Fuzz(func(t *testing.T, tmpl string) {
		got := expandTemplate(tmpl, 1234567, 89, 5)
		if want := naiveExpand(tmpl, vals); got != want {
			t.Fatalf("expandTemplate(%q) = %q, model says %q", tmpl, got, want)
		}
	})
}
