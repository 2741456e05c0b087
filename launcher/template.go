package launcher

import (
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strconv"
	"strings"
)

// expandTemplate fills in a File mode output path: {{id}} is the job id in
// f58 (as Flux; {{id.dec}}, {{id.hex}}, {{id.dothex}}, {{id.words}} the other
// forms), {{line}} the input line number and {{task.id}} (or {{taskid}}) the
// task rank. ({{name}} and {{cc}} are filled in by the submitting command.) Spaces
// inside the braces are allowed ({{ id }}); anything else in braces is left
// as written, so a path that merely contains "{{" still works.
func expandTemplate(tmpl string, id uint64, line, rank int) string {
	if !strings.Contains(tmpl, "{{") {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + 16)
	for {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			break
		}
		end := strings.Index(tmpl[i+2:], "}}")
		if end < 0 {
			break
		}
		b.WriteString(tmpl[:i])
		switch strings.TrimSpace(tmpl[i+2 : i+2+end]) {
		case "id", "id.f58":
			b.WriteString(jobid.String(id))
		case "id.dec":
			b.WriteString(strconv.FormatUint(id, 10))
		case "id.hex":
			b.WriteString(jobid.Encode(id, jobid.Hex))
		case "id.dothex":
			b.WriteString(jobid.Encode(id, jobid.DotHex))
		case "id.words":
			b.WriteString(jobid.Encode(id, jobid.Words))
		case "line":
			b.WriteString(strconv.Itoa(line))
		case "task.id", "taskid":
			b.WriteString(strconv.Itoa(rank))
		default:
			// Not ours: keep one brace and rescan from the next, so
			// "{{{{id}}" still expands its inner "{{id}}".
			b.WriteByte('{')
			tmpl = tmpl[i+1:]
			continue
		}
		tmpl = tmpl[i+4+end:]
	}
	b.WriteString(tmpl)
	return b.String()
}
