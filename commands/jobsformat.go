package commands

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The flux jobs -o format language, as flux-jobs(1) documents it: Python
// format fields {name[!conv][:spec]} between literal text, where
//   conv  F  a duration as Flux Standard Duration (0.983s, 1.5m, 2h)
//         H  a duration as [h:]mm:ss
//         d  a time, with a strftime format ending in "::" before the spec
//              ({t_submit!d:%b%d %R::>12})
//   spec  [[fill]align][width][.precision] then "+" (mark a cut value with
//         a trailing +) and/or "h" (print "-" for an empty or zero value)
// and a field may be prefixed "?:" (left out when empty in every row) or
// "+:" (as wide as its widest value).

// fmtValue is one field's value in one row.
type fmtValue struct {
	kind valueKind
	s    string
	n    float64 // int, float, duration (seconds), time (unix seconds; 0 = unset)
}

type valueKind uint8

const (
	kindString valueKind = iota
	kindInt
	kindFloat
	kindDuration
	kindTime
)

func strVal(s string) fmtValue        { return fmtValue{kind: kindString, s: s} }
func intVal(n int) fmtValue           { return fmtValue{kind: kindInt, n: float64(n)} }
func floatVal(f float64) fmtValue     { return fmtValue{kind: kindFloat, n: f} }
func durVal(d time.Duration) fmtValue { return fmtValue{kind: kindDuration, n: d.Seconds()} }
func timeVal(t time.Time) fmtValue {
	if t.IsZero() {
		return fmtValue{kind: kindTime}
	}
	return fmtValue{kind: kindTime, n: float64(t.UnixNano()) / 1e9}
}

func (v fmtValue) empty() bool {
	if v.kind == kindString {
		return v.s == ""
	}
	return v.n == 0
}

// fmtField is one parsed {...} field with the literal text before it.
type fmtField struct {
	lit      string // literal text before the field
	name     string
	conv     byte   // 0, 'F', 'H', 'd', 'D'
	strftime string // for !d
	fill     byte
	align    byte // '<', '>', '^' or 0 (strings left, numbers right)
	width    int
	prec     int // -1: none
	plus     bool
	hyphen   bool
	omit     bool // "?:"
	grow     bool // "+:"
}

// jobFormat is a parsed format: fields, and the literal text after the last.
type jobFormat struct {
	fields []fmtField
	tail   string
}

// parseJobFormat parses a format string; known says whether a field name
// exists. The error names the problem and the field.
func parseJobFormat(s string, known func(string) bool) (*jobFormat, error) {
	f := &jobFormat{}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, fmt.Errorf("a single } at column %d; write }} for a literal brace", i+1)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("the field at column %d is not closed with }", i+1)
			}
			body := s[i+1 : i+end]
			// A !d strftime format may hold '}' only if ... it may not; but it
			// may hold ':' which the split below handles.
			fld, err := parseField(body)
			if err != nil {
				return nil, fmt.Errorf("{%s}: %v", body, err)
			}
			if !known(fld.name) {
				return nil, fmt.Errorf("{%s}: unknown field %q; see flux jobs --help for the field names", body, fld.name)
			}
			l := lit.String()
			switch {
			case strings.HasSuffix(l, "?:"):
				fld.omit, l = true, l[:len(l)-2]
			case strings.HasSuffix(l, "+:"):
				fld.grow, l = true, l[:len(l)-2]
			}
			fld.lit = l
			lit.Reset()
			f.fields = append(f.fields, fld)
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	f.tail = lit.String()
	if len(f.fields) == 0 {
		return nil, fmt.Errorf("no {field} in the format; e.g. '{id.f58} {name} {status}'")
	}
	return f, nil
}

func parseField(body string) (fmtField, error) {
	fld := fmtField{prec: -1, fill: ' '}
	name, spec, hasSpec := strings.Cut(body, ":")
	name, conv, hasConv := strings.Cut(name, "!")
	fld.name = name
	if name == "" {
		return fld, fmt.Errorf("empty field name")
	}
	if hasConv {
		if len(conv) != 1 || !strings.Contains("FHdD", conv) {
			return fld, fmt.Errorf("unknown conversion !%s; use !F (duration), !H (h:mm:ss) or !d (time)", conv)
		}
		fld.conv = conv[0]
	}
	if !hasSpec {
		return fld, nil
	}
	if fld.conv == 'd' || fld.conv == 'D' {
		tf, rest, ok := strings.Cut(spec, "::")
		if ok {
			fld.strftime, spec = tf, rest
		} else {
			fld.strftime, spec = spec, ""
		}
	}
	// [[fill]align]
	if len(spec) >= 2 && strings.IndexByte("<>^", spec[1]) >= 0 {
		fld.fill, fld.align, spec = spec[0], spec[1], spec[2:]
	} else if len(spec) >= 1 && strings.IndexByte("<>^", spec[0]) >= 0 {
		fld.align, spec = spec[0], spec[1:]
	}
	j := 0
	for j < len(spec) && spec[j] >= '0' && spec[j] <= '9' {
		j++
	}
	if j > 0 {
		fld.width, _ = strconv.Atoi(spec[:j])
		spec = spec[j:]
	}
	if strings.HasPrefix(spec, ".") {
		j = 1
		for j < len(spec) && spec[j] >= '0' && spec[j] <= '9' {
			j++
		}
		if j == 1 {
			return fld, fmt.Errorf("a . needs a precision after it, as in {name:.10}")
		}
		fld.prec, _ = strconv.Atoi(spec[1:j])
		spec = spec[j:]
	}
	for _, c := range spec {
		switch c {
		case '+':
			fld.plus = true
		case 'h':
			fld.hyphen = true
		case 's', 'd', 'f':
		default:
			return fld, fmt.Errorf("unknown format spec character %q; a spec is [[fill]align][width][.precision][+][h]", c)
		}
	}
	if fld.width > 1000 || fld.prec > 1000 {
		return fld, fmt.Errorf("a width or precision above 1000")
	}
	return fld, nil
}

// text renders a value without padding.
func (f *fmtField) text(v fmtValue) string {
	if f.hyphen && v.empty() {
		return "-"
	}
	var s string
	switch f.conv {
	case 'F':
		s = fsd(v.n)
	case 'H':
		s = hms(v.n)
	case 'd', 'D':
		if v.n == 0 {
			return ""
		}
		t := time.Unix(0, int64(v.n*1e9))
		tf := f.strftime
		if tf == "" {
			if f.conv == 'D' {
				tf = "%Y-%m-%d"
			} else {
				tf = "%Y-%m-%dT%T"
			}
		}
		s = strftime(t, tf)
	default:
		switch v.kind {
		case kindString:
			s = v.s
		case kindInt:
			s = strconv.FormatInt(int64(v.n), 10)
		default:
			s = pyFloat(v.n)
		}
	}
	return s
}

// pad cuts and aligns s as the spec says.
func (f *fmtField) pad(s string, width int, number bool) string {
	if f.prec >= 0 && utf8.RuneCountInString(s) > f.prec {
		r := []rune(s)[:f.prec]
		if f.plus && f.prec > 0 {
			r[f.prec-1] = '+'
		}
		s = string(r)
	}
	n := utf8.RuneCountInString(s)
	if n >= width {
		return s
	}
	fill := strings.Repeat(string(f.fill), width-n)
	align := f.align
	if align == 0 {
		align = '<'
		if number {
			align = '>'
		}
	}
	switch align {
	case '>':
		return fill + s
	case '^':
		l := (width - n) / 2
		return fill[:l] + s + fill[l:]
	}
	return s + fill
}

// fsd formats seconds as Flux Standard Duration the way flux jobs prints it.
func fsd(secs float64) string {
	switch {
	case math.IsInf(secs, 1):
		return "inf"
	case secs < 1e-3:
		return "0s"
	case secs < 10:
		return strconv.FormatFloat(secs, 'f', 3, 64) + "s"
	case secs < 60:
		return gfmt(secs) + "s"
	case secs < 3600:
		return gfmt(secs/60) + "m"
	case secs < 86400:
		return gfmt(secs/3600) + "h"
	}
	return gfmt(secs/86400) + "d"
}

// gfmt is C's %.4g.
func gfmt(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func hms(secs float64) string {
	s := int64(secs + 0.5)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// pyFloat prints a float as Python's repr does in the common cases.
func pyFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// strftime supports the conversions flux jobs formats use.
func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// render lays out rows under a header (unless noHeader): get returns a
// field's value and whether it is a number, in row r.
func (jf *jobFormat) render(nrows int, get func(r int, name string) fmtValue, heading func(string) string, noHeader bool) string {
	nf := len(jf.fields)
	cells := make([][]string, nrows)
	isNum := make([]bool, nf)
	keep := make([]bool, nf)
	width := make([]int, nf)
	for i := range jf.fields {
		f := &jf.fields[i]
		keep[i] = !f.omit
		width[i] = f.width
	}
	for r := 0; r < nrows; r++ {
		cells[r] = make([]string, nf)
		for i := range jf.fields {
			f := &jf.fields[i]
			v := get(r, f.name)
			isNum[i] = v.kind != kindString && f.conv == 0
			s := f.text(v)
			cells[r][i] = s
			if s != "" {
				keep[i] = true
			}
			if f.grow {
				width[i] = max(width[i], utf8.RuneCountInString(s))
			}
		}
	}
	var b strings.Builder
	line := func(cell func(i int) string) {
		var l strings.Builder
		for i := range jf.fields {
			if !keep[i] {
				continue
			}
			l.WriteString(jf.fields[i].lit)
			l.WriteString(cell(i))
		}
		l.WriteString(jf.tail)
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	if !noHeader {
		for i := range jf.fields {
			if jf.fields[i].grow {
				width[i] = max(width[i], len(heading(jf.fields[i].name)))
			}
		}
		line(func(i int) string {
			hf := jf.fields[i] // headings are cut but never marked with +
			hf.plus = false
			return hf.pad(heading(hf.name), width[i], false)
		})
	}
	for r := range cells {
		line(func(i int) string { return jf.fields[i].pad(cells[r][i], width[i], isNum[i]) })
	}
	return b.String()
}
