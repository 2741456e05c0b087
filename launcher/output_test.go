package launcher

import (
	"bytes"
	"strings"
	"testing"
)

func TestCapture(t *testing.T) {
	cases := []struct {
		name   string
		limit  int
		label  string
		chunks []string
		want   string
	}{
		{"plain", -1, "", []string{"a\nb", "c\n"}, "a\nbc\n"},
		{"unterminated kept exact", -1, "", []string{"x"}, "x"},
		{"labelled", -1, "3: ", []string{"a\nb", "c\nd"}, "3: a\n3: bc\n3: d\n"},
		{"labelled empty", -1, "3: ", nil, ""},
		{"at limit", 4, "", []string{"abc\n"}, "abc\n"},
		{"over limit", 4, "", []string{"ab", "cdef\n", "more\n"}, "abcd\n" + truncMarker(4)},
		{"over limit at newline", 4, "", []string{"abc\nx"}, "abc\n" + truncMarker(4)},
		{"over limit labelled", 5, "0: ", []string{"ab\ncdef"}, "0: ab\n0: cd\n" + truncMarker(5)},
		{"zero limit", 0, "", []string{"a"}, "\n"[:0] + truncMarker(0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cp := capture{limit: c.limit}
			if c.label != "" {
				cp.label = []byte(c.label)
			}
			for _, ch := range c.chunks {
				cp.write([]byte(ch))
			}
			cp.close()
			if string(cp.buf) != c.want {
				t.Errorf("got %q, want %q", cp.buf, c.want)
			}
		})
	}
}

func TestTruncMarker(t *testing.T) {
	for limit, want := range map[int]string{
		defaultOutputLimit: "[flux: output truncated at 4 MiB; use --output FILE or --line-buffer]\n",
		64 << 10:           "[flux: output truncated at 64 KiB; use --output FILE or --line-buffer]\n",
		1000:               "[flux: output truncated at 1000 bytes; use --output FILE or --line-buffer]\n",
	} {
		if got := truncMarker(limit); got != want {
			t.Errorf("truncMarker(%d) = %q, want %q", limit, got, want)
		}
	}
}

// collectLines feeds chunks to a lineSink and returns what it delivered.
func collectLines(label string, max int, chunks [][]byte) []string {
	var got []string
	s := lineSink{label: []byte(label), max: max, emit: func(l []byte) { got = append(got, string(l)) }}
	if label == "" {
		s.label = nil
	}
	for _, c := range chunks {
		s.write(c)
	}
	s.close()
	return got
}

func TestLineSink(t *testing.T) {
	cases := []struct {
		name   string
		label  string
		max    int
		chunks []string
		want   []string
	}{
		{"lines", "", 8, []string{"a\nb\n"}, []string{"a\n", "b\n"}},
		{"split across reads", "", 8, []string{"ab", "c\nd", "e\n"}, []string{"abc\n", "de\n"}},
		{"no trailing newline", "", 8, []string{"a\nb"}, []string{"a\n", "b\n"}},
		{"empty lines", "", 8, []string{"\n\n"}, []string{"\n", "\n"}},
		{"labelled", "2: ", 8, []string{"a\nb"}, []string{"2: a\n", "2: b\n"}},
		{"exactly max", "", 4, []string{"abcd\n"}, []string{"abcd\n"}},
		{"exactly max then newline later", "", 4, []string{"abcd", "\n"}, []string{"abcd\n"}},
		{"long line in pieces", "", 4, []string{"abcdefghij\n"}, []string{"abcd", "efgh", "ij\n"}},
		{"long line across reads", "L: ", 4, []string{"abc", "def", "ghi"}, []string{"L: abcd", "efgh", "i\n"}},
		{"long line exact multiple", "", 4, []string{"abcdefgh"}, []string{"abcd", "efgh\n"}},
		{"nothing", "", 4, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var chunks [][]byte
			for _, ch := range c.chunks {
				chunks = append(chunks, []byte(ch))
			}
			got := collectLines(c.label, c.max, chunks)
			if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// labelled is the naive model of a labelled stream: every line prefixed,
// a final unterminated line ended.
func labelled(label string, data []byte) string {
	if len(data) == 0 {
		return ""
	}
	var b strings.Builder
	for line := range strings.Lines(string(data)) {
		b.WriteString(label)
		b.WriteString(line)
	}
	if data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	return b.String()
}

func FuzzLineSink(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), uint8(3), uint8(8), true)
	f.Add([]byte("no newline at end"), uint8(1), uint8(4), false)
	f.Add([]byte("\n\n\nabcdefghijklmnop\nq"), uint8(5), uint8(3), true)
	f.Fuzz(func(t *testing.T, data []byte, split, max uint8, label bool) {
		m := int(max%32) + 1
		lab := ""
		if label {
			lab = "7: "
		}
		var chunks [][]byte
		step := int(split%16) + 1
		for i := 0; i < len(data); i += step {
			chunks = append(chunks, data[i:min(i+step, len(data))])
		}
		got := collectLines(lab, m, chunks)
		if all := strings.Join(got, ""); all != labelled(lab, data) {
			t.Fatalf("concatenation %q, want %q", all, labelled(lab, data))
		}
		start := true
		for _, l := range got {
			body := l
			if start {
				body = strings.TrimPrefix(l, lab)
			}
			complete := strings.HasSuffix(l, "\n")
			switch {
			case complete && len(body) > m+1:
				t.Fatalf("line %q longer than max %d", l, m)
			case complete && strings.Contains(body[:len(body)-1], "\n"), !complete && strings.Contains(body, "\n"):
				t.Fatalf("delivery %q holds more than one line", l)
			case !complete && len(body) != m:
				t.Fatalf("piece %q is not exactly max %d bytes", l, m)
			}
			start = complete
		}
	})
}

func FuzzCapture(f *testing.F) {
	f.Add([]byte("a\nbb\nccc"), uint8(2), int16(5), false)
	f.Add([]byte("0123456789\n"), uint8(3), int16(-1), true)
	f.Fuzz(func(t *testing.T, data []byte, split uint8, limit int16, label bool) {
		c := capture{limit: int(limit)}
		lab := ""
		if label {
			lab = "1: "
			c.label = []byte(lab)
		}
		step := int(split%16) + 1
		for i := 0; i < len(data); i += step {
			c.write(data[i:min(i+step, len(data))])
		}
		c.close()
		kept := data
		if limit >= 0 && len(data) > int(limit) {
			kept = data[:limit]
		}
		want := string(kept)
		if label {
			want = labelled(lab, kept)
		}
		if limit >= 0 && len(data) > int(limit) {
			if !label && len(kept) > 0 && kept[len(kept)-1] != '\n' {
				want += "\n"
			}
			want += truncMarker(int(limit))
		}
		if !bytes.Equal(c.buf, []byte(want)) {
			t.Fatalf("got %q, want %q", c.buf, want)
		}
	})
}
