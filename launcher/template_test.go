package launcher

import (
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strings"
	"testing"
)

func TestExpandTemplate(t *testing.T) {
	jobid.Prefix = jobid.PrefixUTF8
	cases := []struct{ tmpl, want string }{
		{"{{id.dec}} {{id.f58}} {{id.hex}} {{taskid}}", "42 ƒj 0x2a 3"},
		{"{{id.dothex}}", "0000.0000.0000.002a"},
		{"out.log", "out.log"},
		{"flux-{{id}}.out", "flux-ƒj.out"},
		{"{{id}}-{{line}}-{{task.id}}", "ƒj-17-3"},
		{"{{ id }}/{{task.id}}.err", "ƒj/3.err"},
		{"{{name}}-{{id}}", "{{name}}-ƒj"},
		{"{{{{id}}", "{{ƒj"},
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
	vals := map[string]string{"id": jobid.String(1234567), "id.f58": jobid.String(1234567), "id.dec": "1234567",
		"id.hex": "0x12d687", "id.dothex": "0000.0000.0012.d687", "id.words": jobid.Encode(1234567, jobid.Words),
		"line": "89", "task.id": "5", "taskid": "5"}
	f.Fuzz(func(t *testing.T, tmpl string) {
		got := expandTemplate(tmpl, 1234567, 89, 5)
		if want := naiveExpand(tmpl, vals); got != want {
			t.Fatalf("expandTemplate(%q) = %q, model says %q", tmpl, got, want)
		}
	})
}
