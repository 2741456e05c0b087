package report

import (
	"bytes"
	"fmt"
	"strconv"
)

// Header is the first line of a job log (GNU parallel's --joblog columns).
const Header = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand"

// Record is one job log line. Host and Command point into the line being
// read: they are valid only until the next line is read (copy to keep).
type Record struct {
	Seq     int64
	Host    []byte
	Start   int64 // milliseconds since the epoch
	Runtime int64 // milliseconds
	Exitval int
	Signal  int
	Command []byte
}

// Failed reports whether the line did not succeed.
func (r *Record) Failed() bool { return r.Exitval != 0 || r.Signal != 0 }

// ParseRecord reads one job log line (without its newline). It allocates
// nothing, so that ten million lines cost no garbage. The error says which
// column is wrong and what it should look like.
func ParseRecord(line []byte, r *Record) error {
	line = bytes.TrimSuffix(line, []byte("\r"))
	var f [8][]byte
	rest := line
	for i := range f {
		tab := bytes.IndexByte(rest, '\t')
		if tab < 0 {
			return fmt.Errorf("has %d tab-separated columns, a job log record has 9 (%s)", i+1, Header)
		}
		f[i], rest = rest[:tab], rest[tab+1:]
	}
	var ok bool
	if r.Seq, ok = wholeNumber(f[0]); !ok {
		return fmt.Errorf("Seq %q is not a whole number", clip(f[0]))
	}
	r.Host = f[1]
	if r.Start, ok = millis(f[2]); !ok {
		return fmt.Errorf("Starttime %q is not seconds since 1970 such as 1732610000.123", clip(f[2]))
	}
	if r.Runtime, ok = millis(f[3]); !ok {
		return fmt.Errorf("JobRuntime %q is not seconds such as 0.004", clip(f[3]))
	}
	if _, ok = wholeNumber(f[4]); !ok {
		return fmt.Errorf("Send %q is not a whole number", clip(f[4]))
	}
	if _, ok = wholeNumber(f[5]); !ok {
		return fmt.Errorf("Receive %q is not a whole number", clip(f[5]))
	}
	v, ok := wholeNumber(f[6])
	if !ok || v < -1<<31 || v > 1<<31-1 {
		return fmt.Errorf("Exitval %q is not a whole number", clip(f[6]))
	}
	r.Exitval = int(v)
	if v, ok = wholeNumber(f[7]); !ok || v < 0 || v > 1<<31-1 {
		return fmt.Errorf("Signal %q is not a signal number", clip(f[7]))
	}
	r.Signal = int(v)
	r.Command = rest
	return nil
}

// clip shortens a column quoted in a message.
func clip(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "..."...)
	}
	return b
}

// wholeNumber parses an optionally signed decimal with the blanks GNU
// parallel pads columns with.
func wholeNumber(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// maxSeconds bounds the seconds a time column may hold (year 33658), so
// that milliseconds and sums of them stay far from overflow.
const maxSeconds = 1 << 40

// millis parses non-negative seconds with up to 3 decimals (more are
// truncated) into milliseconds, as GNU parallel prints Starttime and
// JobRuntime ("1732610000.123", "     0.004").
func millis(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	whole, frac, _ := bytes.Cut(b, []byte("."))
	if len(whole) == 0 && len(frac) == 0 {
		return 0, false
	}
	var sec int64
	if len(whole) > 0 {
		s, err := strconv.ParseUint(string(whole), 10, 63) // no allocation: the compiler sees string() does not escape
		if err != nil || s > maxSeconds {
			return 0, false
		}
		sec = int64(s)
	}
	ms := sec * 1000
	for i, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 3 {
			ms += int64(c-'0') * [3]int64{100, 10, 1}[i]
		}
	}
	return ms, true
}
