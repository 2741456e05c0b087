package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name, line string
		want       Record
		err        string // part of the message; "" = parses
	}{
		{name: "ours", line: "12\tvm\t1796425320.995\t0.011\t0\t0\t0\t0\t-n1 sleep 0.01",
			want: Record{Seq: 12, Host: []byte("vm"), Start: 1796425320995, Runtime: 11, Command: []byte("-n1 sleep 0.01")}},
		{name: "GNU parallel pads the runtime", line: "1\t:\t1796425370.972\t     0.012\t0\t0\t1\t0\tsleep 0.01; exit 1",
			want: Record{Seq: 1, Host: []byte(":"), Start: 1796425370972, Runtime: 12, Exitval: 1, Command: []byte("sleep 0.01; exit 1")}},
		{name: "signal", line: "3\th\t10\t2.5\t0\t0\t-1\t9\tkill -9 $$",
			want: Record{Seq: 3, Host: []byte("h"), Start: 10000, Runtime: 2500, Exitval: -1, Signal: 9, Command: []byte("kill -9 $$")}},
		{name: "tab in command kept", line: "3\th\t10\t2\t0\t0\t0\t0\ta\tb",
			want: Record{Seq: 3, Host: []byte("h"), Start: 10000, Runtime: 2000, Command: []byte("a\tb")}},
		{name: "more decimals truncated", line: "3\th\t10.12345\t.5\t0\t0\t0\t0\tx",
			want: Record{Seq: 3, Host: []byte("h"), Start: 10123, Runtime: 500, Command: []byte("x")}},
		{name: "CRLF", line: "3\th\t10\t2\t0\t0\t0\t0\tx\r",
			want: Record{Seq: 3, Host: []byte("h"), Start: 10000, Runtime: 2000, Command: []byte("x")}},
		{name: "too few columns", line: "1\th\t10\t2", err: "has 4 tab-separated columns"},
		{name: "spaces, not tabs", line: "1 h 10 2 0 0 0 0 x", err: "has 1 tab-separated columns"},
		{name: "bad seq", line: "x\th\t10\t2\t0\t0\t0\t0\tx", err: `Seq "x"`},
		{name: "bad start", line: "1\th\tnoon\t2\t0\t0\t0\t0\tx", err: `Starttime "noon"`},
		{name: "negative runtime", line: "1\th\t10\t-2\t0\t0\t0\t0\tx", err: `JobRuntime "-2"`},
		{name: "empty runtime", line: "1\th\t10\t\t0\t0\t0\t0\tx", err: "JobRuntime"},
		{name: "far future", line: "1\th\t99999999999999\t1\t0\t0\t0\t0\tx", err: "Starttime"},
		{name: "bad exit", line: "1\th\t10\t2\t0\t0\tok\t0\tx", err: `Exitval "ok"`},
		{name: "bad signal", line: "1\th\t10\t2\t0\t0\t0\t-9\tx", err: `Signal "-9"`},
		{name: "bad send", line: "1\th\t10\t2\ta\t0\t0\t0\tx", err: `Send "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Record
			err := ParseRecord([]byte(tt.line), &r)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Seq != tt.want.Seq || !bytes.Equal(r.Host, tt.want.Host) || r.Start != tt.want.Start ||
				r.Runtime != tt.want.Runtime || r.Exitval != tt.want.Exitval || r.Signal != tt.want.Signal ||
				!bytes.Equal(r.Command, tt.want.Command) {
				t.Fatalf("got %+v\nwant %+v", r, tt.want)
			}
		})
	}
}

func TestParseRecordAllocatesNothing(t *testing.T) {
	line := []byte("12\tvm\t1796425320.995\t     0.011\t0\t0\t0\t0\t-n1 sleep 0.01")
	var r Record
	if n := testing.AllocsPerRun(100, func() { ParseRecord(line, &r) }); n != 0 {
		t.Fatalf("%v allocations a line, want 0", n)
	}
}

func TestScanBadLines(t *testing.T) {
	log := Header + "\n" +
		"1\th\t10\t1\t0\t0\t0\t0\ta\n" +
		"this is not a record\n" +
		"2\th\t11\t1\t0\t0\t1\t0\tb\n" +
		"3\th\t12\tx\t0\t0\t0\t0\tc\n" +
		"4\th\t13\t1\t0\t0\t0\t0\td" // torn last line that parses: kept
	var bad BadLines
	var seqs []int64
	if err := Scan(strings.NewReader(log), &bad, func(r *Record) { seqs = append(seqs, r.Seq) }); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 3 || seqs[0] != 1 || seqs[1] != 2 || seqs[2] != 4 {
		t.Errorf("records %v, want 1 2 4", seqs)
	}
	if bad.Count != 2 || bad.FirstLine != 3 || !strings.Contains(bad.Error(), "line 3: has 1 tab-separated columns") {
		t.Errorf("bad = %+v (%s)", bad, bad.Error())
	}
}

func TestScanNotAJobLog(t *testing.T) {
	var bad BadLines
	n := 0
	err := Scan(strings.NewReader("hello\nworld\n1\th\t10\t1\t0\t0\t0\t0\ta\n"), &bad, func(*Record) { n++ })
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || bad.Count != 2 || bad.FirstLine != 1 || !strings.Contains(bad.Error(), `line 1: is "hello", not the job log header`) {
		t.Errorf("n=%d bad=%s", n, bad.Error())
	}
	// Empty input is not a job log either.
	bad = BadLines{}
	Scan(strings.NewReader(""), &bad, func(*Record) {})
	if bad.Count != 1 || !strings.Contains(bad.Error(), "line 1: the input is empty") {
		t.Errorf("empty: %s", bad.Error())
	}
	// A headerless log keeps its first record.
	bad, n = BadLines{}, 0
	Scan(strings.NewReader("1\th\t10\t1\t0\t0\t0\t0\ta\n"), &bad, func(*Record) { n++ })
	if n != 1 || bad.Count != 1 {
		t.Errorf("headerless: n=%d bad=%d", n, bad.Count)
	}
}

func TestScanLongLine(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	log := Header + "\n" + long + "\n" + "1\th\t10\t1\t0\t0\t0\t0\t" + strings.Repeat("y", 100000) + "\n"
	var bad BadLines
	var cmdLen int
	Scan(strings.NewReader(log), &bad, func(r *Record) { cmdLen = len(r.Command) })
	if bad.Count != 1 || bad.FirstLine != 2 || cmdLen != 100000 {
		t.Errorf("bad=%s cmdLen=%d", bad.Error(), cmdLen)
	}
}

// FuzzParseRecord: no input panics, and what parses holds sane values.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"12\tvm\t1796425320.995\t0.011\t0\t0\t0\t0\t-n1 sleep 0.01",
		"1\t:\t1796425370.972\t     0.012\t0\t0\t1\t0\tsleep 0.01; exit 1",
		"3\th\t10\t2.5\t0\t0\t-1\t9\tkill -9 $$",
		"1\th\t10\t\t0\t0\t0\t0\tx", "\t\t\t\t\t\t\t\t", "1\th\t.\t.\t0\t0\t0\t0\t",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		if ParseRecord(line, &r) != nil {
			return
		}
		if r.Start < 0 || r.Runtime < 0 || r.Start > maxSeconds*1000+999 || r.Runtime > maxSeconds*1000+999 || r.Signal < 0 {
			t.Fatalf("parsed %q into %+v", line, r)
		}
		// Whatever parses also goes through the collector without trouble.
		c, _ := NewCollector(Options{Bins: 16})
		c.Add(&r)
		if c.Lines != 1 {
			t.Fatal("not counted")
		}
	})
}

// FuzzScan: any bytes scan without panic, and every line is a record or bad.
func FuzzScan(f *testing.F) {
	f.Add([]byte(Header + "\n1\th\t10\t1\t0\t0\t0\t0\ta\nx\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := NewCollector(Options{Bins: 8})
		if err := c.Read(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		// Line 1 may count twice: a headerless log's first record is
		// reported as a missing header and still read.
		lines := int64(bytes.Count(data, []byte("\n")) + 1)
		if c.Lines+c.Bad.Count > lines+1 || c.Lines > lines {
			t.Fatalf("%d records and %d bad lines from %d lines", c.Lines, c.Bad.Count, lines)
		}
		Build(c, nil, "fuzz")
	})
}
