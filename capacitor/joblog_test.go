package capacitor

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleRecords() []Record {
	start := time.UnixMilli(1732610000123)
	odd := []string{
		"-n1 tar -cf a.tgz a",
		"echo 'a\tb'",    // a tab
		"printf 'x\\ny'", // a backslash followed by n: must not turn into a newline
		"weird\nnewline", // cannot come from a line, but must survive
		`back\\slash\`,   // doubled and trailing backslashes
		`\t literally`,   // the two characters \ and t
		"ünïcödé ✓",
		"",
	}
	var recs []Record
	for i, c := range odd {
		recs = append(recs, Record{
			Seq: i + 1, Host: "node1", Start: start.Add(time.Duration(i) * time.Second),
			Runtime: time.Duration(i) * 1500 * time.Millisecond, Send: 0, Receive: int64(i * 100),
			Exitval: i % 3, Signal: []int{0, 0, 9}[i%3], Command: c,
		})
	}
	return recs
}

func writeLog(t *testing.T, path string, appendMode bool, recs []Record) {
	t.Helper()
	j, err := CreateJobLog(path, appendMode)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := j.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestJobLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "joblog")
	want := sampleRecords()
	writeLog(t, path, false, want)
	got, err := ReadJobLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) {
			t.Errorf("record %d: start %v, want %v", i, got[i].Start, want[i].Start)
		}
		got[i].Start, want[i].Start = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if lines[0] != JobLogHeader || len(lines) != len(want)+1 {
		t.Fatalf("file has %d lines, header %q", len(lines), lines[0])
	}
	if lines[1] != "1\tnode1\t1732610000.123\t0.000\t0\t0\t0\t0\t-n1 tar -cf a.tgz a" {
		t.Errorf("first record is %q", lines[1])
	}
	if lines[3] != "3\tnode1\t1732610002.123\t3.000\t0\t200\t2\t9\tprintf 'x\\\\ny'" {
		t.Errorf("third record is %q", lines[3])
	}
}

func TestJobLogFormatsMillis(t *testing.T) {
	for ms, want := range map[int64]string{0: "0.000", 4: "0.004", 1002: "1.002", 1732610000123: "1732610000.123", -1500: "-1.500"} {
		if got := string(appendMillis(nil, ms)); got != want {
			t.Errorf("appendMillis(%d) = %q, want %q", ms, got, want)
		}
		if back, ok := parseMillis(want); !ok || back != ms {
			t.Errorf("parseMillis(%q) = %d, %v", want, back, ok)
		}
	}
	for s, want := range map[string]int64{"   0.004": 4, "1.5": 1500, "2": 2000, "0.12345": 123, ".5": 500} {
		if got, ok := parseMillis(s); !ok || got != want {
			t.Errorf("parseMillis(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", ".", "x", "1.x", "--1", "1e3", "+-1"} {
		if _, ok := parseMillis(s); ok {
			t.Errorf("parseMillis(%q) accepted", s)
		}
	}
}

func TestReadJobLogGNUParallel(t *testing.T) {
	got, err := ReadJobLog("testdata/parallel.joblog")
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{Seq: 1, Host: ":", Start: time.UnixMilli(1732610000123), Runtime: 4 * time.Millisecond, Receive: 2, Command: "echo a"},
		{Seq: 2, Host: ":", Start: time.UnixMilli(1732610000127), Runtime: 1002 * time.Millisecond, Exitval: 1, Command: "false"},
		{Seq: 3, Host: ":", Start: time.UnixMilli(1732610001130), Runtime: 500 * time.Millisecond, Signal: 15, Command: "sleep 10"},
		// parallel logs commands raw: an unknown escape keeps its backslash,
		// a raw tab stays in the command.
		{Seq: 4, Host: ":", Start: time.UnixMilli(1732610001200), Runtime: 10 * time.Millisecond, Receive: 6, Command: "echo a\\ b\tc"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestReadJobLogTolerance(t *testing.T) {
	dir := t.TempDir()
	full := JobLogHeader + "\n1\th\t1.000\t0.500\t0\t0\t0\t0\ta\n"
	tests := []struct {
		name, content string
		seqs          []int
		err           string
	}{
		{"torn last line", full + "2\th\t2.000\t0.5", []int{1}, ""},
		{"torn command", full + "2\th\t2.000\t0.500\t0\t0\t0\t0\tlong comm", []int{1}, ""},
		{"torn header", "Seq\tHost\tSta", nil, ""},
		{"header only", JobLogHeader + "\n", nil, ""},
		{"empty", "", nil, ""},
		{"blank line inside", JobLogHeader + "\n\n1\th\t1.000\t0.500\t0\t0\t0\t0\ta\n", []int{1}, ""},
		{"not a job log", "#!/bin/sh\necho hi\n", nil, "is not a job log"},
		{"not a job log, one line", "hello", nil, "is not a job log"},
		{"wrong header", "Seq\tHost\n1\th\n", nil, "is not a job log"},
		{"short record", full + "2\th\t2.000\n3\th\t1.000\t0.500\t0\t0\t0\t0\tc\n", nil, "line 3: not a job log record"},
		{"bad number", full + "x\th\t2.000\t0.500\t0\t0\t0\t0\tb\n", nil, "line 3: Seq \"x\" is not a whole number"},
		{"bad start", full + "2\th\tyesterday\t0.500\t0\t0\t0\t0\tb\n", nil, "line 3: Starttime"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadJobLog(path)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var seqs []int
		for _, r := range recs {
			seqs = append(seqs, r.Seq)
		}
		if !reflect.DeepEqual(seqs, tt.seqs) {
			t.Errorf("%s: seqs %v, want %v", tt.name, seqs, tt.seqs)
		}
	}
	if recs, err := ReadJobLog(filepath.Join(dir, "missing")); err != nil || recs != nil {
		t.Errorf("missing file: %v, %v; want no records and no error", recs, err)
	}
}

func TestReadJobLogLongRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "joblog")
	long := strings.Repeat("x", 200<<10) // longer than the reader's buffer
	writeLog(t, path, false, []Record{{Seq: 1, Command: long}, {Seq: 2, Command: "short"}})
	recs, err := ReadJobLog(path)
	if err != nil || len(recs) != 2 || recs[0].Command != long || recs[1].Command != "short" {
		t.Fatalf("long record: %d records, err %v", len(recs), err)
	}
}

func TestCreateJobLogModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "joblog")
	writeLog(t, path, false, []Record{{Seq: 1, Command: "a"}})
	writeLog(t, path, true, []Record{{Seq: 2, Command: "b"}})
	assertSeqs(t, path, []int{1, 2}) // append keeps, one header

	writeLog(t, path, false, []Record{{Seq: 3, Command: "c"}})
	assertSeqs(t, path, []int{3}) // truncate starts afresh

	// A crash left a torn record: appending must not glue onto it.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("4\th\t1.0")
	f.Close()
	writeLog(t, path, true, []Record{{Seq: 5, Command: "e"}})
	assertSeqs(t, path, []int{3, 5})

	// Append to a new file and to an empty one writes the header.
	fresh := filepath.Join(dir, "fresh")
	writeLog(t, fresh, true, []Record{{Seq: 1, Command: "a"}})
	assertSeqs(t, fresh, []int{1})
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	writeLog(t, empty, true, []Record{{Seq: 1, Command: "a"}})
	assertSeqs(t, empty, []int{1})
	torn := filepath.Join(dir, "tornheader")
	os.WriteFile(torn, []byte("Seq\tHo"), 0o644)
	writeLog(t, torn, true, []Record{{Seq: 1, Command: "a"}})
	assertSeqs(t, torn, []int{1})

	// Appending to something that is not a job log is refused untouched.
	script := filepath.Join(dir, "script.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o644)
	if _, err := CreateJobLog(script, true); err == nil || !strings.Contains(err.Error(), "is not a job log") {
		t.Errorf("append to a script: err = %v", err)
	}
	if data, _ := os.ReadFile(script); string(data) != "#!/bin/sh\n" {
		t.Errorf("the script was changed: %q", data)
	}
	if _, err := CreateJobLog(filepath.Join(dir, "no", "such", "dir"), false); err == nil {
		t.Error("a job log in a missing directory was created")
	}
}

func TestJobLogFlushAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "joblog")
	j, err := CreateJobLog(path, false)
	if err != nil {
		t.Fatal(err)
	}
	assertSeqs(t, path, nil) // the header is on disk at once
	j.Write(Record{Seq: 1, Command: "a"})
	assertSeqs(t, path, nil) // buffered
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	assertSeqs(t, path, []int{1})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := j.Write(Record{Seq: 2}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func assertSeqs(t *testing.T, path string, want []int) {
	t.Helper()
	recs, err := ReadJobLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int
	for _, r := range recs {
		seqs = append(seqs, r.Seq)
	}
	if !reflect.DeepEqual(seqs, want) {
		t.Errorf("%s: seqs %v, want %v", filepath.Base(path), seqs, want)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), JobLogHeader); n != 1 {
		t.Errorf("%s: %d headers", filepath.Base(path), n)
	}
}

func FuzzJobLogEscape(f *testing.F) {
	for _, s := range []string{"a\tb", "a\\nb", "x\n", `\`, `\\t`, "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		esc := appendEscaped(nil, s)
		if strings.ContainsAny(string(esc), "\t\n") {
			t.Fatalf("%q escaped to %q, which holds a tab or newline", s, esc)
		}
		if back := unescape(esc); back != s {
			t.Fatalf("%q escaped to %q and back to %q", s, esc, back)
		}
	})
}

func FuzzReadJobLog(f *testing.F) {
	f.Add([]byte(JobLogHeader + "\n1\th\t1.000\t0.500\t0\t0\t0\t0\ta\n2\th\t2"))
	f.Add([]byte(JobLogHeader + "\n"))
	f.Add([]byte("garbage"))
	if data, err := os.ReadFile("testdata/parallel.joblog"); err == nil {
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "joblog")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadJobLog(path)
		if _, rerr := LoadResume(path, true); (rerr == nil) != (err == nil) && err == nil {
			t.Fatalf("ReadJobLog accepted what LoadResume refused: %v", rerr)
		}
		if err != nil {
			return
		}
		// What was read writes back and reads again the same.
		out := filepath.Join(dir, "again")
		writeLog(t, out, false, recs)
		again, err := ReadJobLog(out)
		if err != nil || len(again) != len(recs) {
			t.Fatalf("rewrite: %d records, err %v; want %d", len(again), err, len(recs))
		}
		for i := range recs {
			if again[i].Command != recs[i].Command || again[i].Seq != recs[i].Seq || again[i].Exitval != recs[i].Exitval {
				t.Fatalf("record %d changed on rewrite: %+v -> %+v", i, recs[i], again[i])
			}
		}
	})
}
