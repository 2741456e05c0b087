package commands

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := &progressLine{total: 10, jps: true, start: time.Now().Add(-2 * time.Second), w: &b}
	p.submitted(10)
	p.started(4)
	p.finished(false)
	p.finished(false)
	p.finished(true)
	p.draw(true)
	got := b.String()
	if !strings.HasPrefix(got, "\rPD:6 R:1 CD:2 F:1 │  30.0% │ 1.") || !strings.HasSuffix(got, " job/s\x1b[K\n") {
		t.Errorf("progress line %q", got)
	}
}
