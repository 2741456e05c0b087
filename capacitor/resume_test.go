package capacitor

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// resumeLine is one input line in a resume scenario.
type resumeLine struct {
	seq  int
	text string
}

func resumeFrom(t *testing.T, recs []Record, failedToo bool) *Resume {
	t.Helper()
	path := filepath.Join(t.TempDir(), "joblog")
	writeLog(t, path, false, recs)
	r, err := LoadResume(path, failedToo)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func doneRec(seq int, cmd string) Record { return Record{Seq: seq, Host: "h", Command: cmd} }

func TestResume(t *testing.T) {
	failed := func(seq int, cmd string) Record { return Record{Seq: seq, Command: cmd, Exitval: 1} }
	killed := func(seq int, cmd string) Record { return Record{Seq: seq, Command: cmd, Signal: 9} }
	tests := []struct {
		name      string
		log       []Record
		failedToo bool
		lines     []resumeLine
		done      []bool
		len       int
	}{
		{"same file", []Record{doneRec(1, "a"), doneRec(2, "b"), doneRec(3, "c")}, false,
			[]resumeLine{{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}}, []bool{true, true, true, false}, 3},
		{"crash half way", []Record{doneRec(2, "b"), doneRec(1, "a")}, false,
			[]resumeLine{{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}}, []bool{true, true, false, false}, 2},
		{"line inserted before", []Record{doneRec(1, "a"), doneRec(2, "b"), doneRec(3, "c")}, false,
			[]resumeLine{{1, "new"}, {2, "a"}, {3, "b"}, {4, "c"}}, []bool{false, true, true, true}, 3},
		{"line removed", []Record{doneRec(1, "a"), doneRec(2, "b"), doneRec(3, "c")}, false,
			[]resumeLine{{1, "a"}, {2, "c"}}, []bool{true, true}, 3},
		{"line changed", []Record{doneRec(1, "a"), doneRec(2, "b"), doneRec(3, "c")}, false,
			[]resumeLine{{1, "a"}, {2, "-n2 b"}, {3, "c"}}, []bool{true, false, true}, 3},
		{"lines swapped", []Record{doneRec(1, "a"), doneRec(2, "b")}, false,
			[]resumeLine{{1, "b"}, {2, "a"}}, []bool{true, true}, 2},
		{"duplicates each match once", []Record{doneRec(1, "a"), doneRec(2, "a")}, false,
			[]resumeLine{{1, "a"}, {2, "a"}, {3, "a"}}, []bool{true, true, false}, 2},
		{"duplicate not yet run", []Record{doneRec(1, "a")}, false,
			[]resumeLine{{1, "a"}, {2, "a"}}, []bool{true, false}, 1},
		{"duplicate moved", []Record{doneRec(5, "a")}, false,
			[]resumeLine{{1, "a"}, {5, "a"}}, []bool{true, false}, 1},
		{"rerun line logged twice counts once", []Record{failed(3, "a"), doneRec(3, "a")}, false,
			[]resumeLine{{3, "a"}, {7, "a"}}, []bool{true, false}, 1},
		{"failed and killed count as done", []Record{doneRec(1, "a"), failed(2, "b"), killed(3, "c")}, false,
			[]resumeLine{{1, "a"}, {2, "b"}, {3, "c"}}, []bool{true, true, true}, 3},
		{"resume-failed reruns them", []Record{doneRec(1, "a"), failed(2, "b"), killed(3, "c")}, true,
			[]resumeLine{{1, "a"}, {2, "b"}, {3, "c"}}, []bool{true, false, false}, 1},
		{"resume-failed after a successful rerun", []Record{failed(2, "b"), doneRec(2, "b")}, true,
			[]resumeLine{{2, "b"}}, []bool{true}, 1},
		{"raw text with options and odd bytes", []Record{doneRec(1, "-n1 echo 'a\tb' \\n")}, false,
			[]resumeLine{{1, "-n1 echo 'a\tb' \\n"}, {2, "-n1 echo 'a\tb' \n"}}, []bool{true, false}, 1},
		{"empty log", nil, false, []resumeLine{{1, "a"}}, []bool{false}, 0},
	}
	for _, tt := range tests {
		r := resumeFrom(t, tt.log, tt.failedToo)
		if r.Len() != tt.len {
			t.Errorf("%s: Len() = %d, want %d", tt.name, r.Len(), tt.len)
		}
		for i, l := range tt.lines {
			if got := r.Done(l.seq, l.text); got != tt.done[i] {
				t.Errorf("%s: Done(%d, %q) = %v, want %v", tt.name, l.seq, l.text, got, tt.done[i])
			}
		}
	}
}

func TestResumeMissingAndBad(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadResume(filepath.Join(dir, "missing"), false)
	if err != nil || r.Len() != 0 || r.Done(1, "a") {
		t.Errorf("missing log: %v, Len %d", err, r.Len())
	}
	var none *Resume
	if none.Done(1, "a") || none.Len() != 0 {
		t.Error("a nil Resume says something is done")
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a log\n"), 0o644)
	if _, err := LoadResume(bad, false); err == nil || !strings.Contains(err.Error(), "is not a job log") {
		t.Errorf("bad log: err = %v", err)
	}
	badExit := filepath.Join(dir, "badexit")
	os.WriteFile(badExit, []byte(JobLogHeader+"\n1\th\t1.0\t1.0\t0\t0\tx\t0\ta\n"), 0o644)
	if _, err := LoadResume(badExit, true); err == nil || !strings.Contains(err.Error(), "line 2: Exitval") {
		t.Errorf("bad Exitval: err = %v", err)
	}
}

// naiveResume is the model: a list scanned in full for every line.
type naiveResume struct {
	recs []resumeLine
	used []bool
}

func (n *naiveResume) done(seq int, text string) bool {
	for i, r := range n.recs {
		if !n.used[i] && r.seq == seq && r.text == text {
			n.used[i] = true
			return true
		}
	}
	best := -1
	for i, r := range n.recs {
		if !n.used[i] && r.text == text && (best < 0 || r.seq < n.recs[best].seq) {
			best = i
		}
	}
	if best >= 0 {
		n.used[best] = true
		return true
	}
	return false
}

// TestResumeAgainstModel compares Done with the naive model over random
// logs and edited inputs with many duplicates.
func TestResumeAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		var recs []Record
		model := &naiveResume{}
		seen := map[resumeLine]bool{}
		for range rng.IntN(20) {
			l := resumeLine{1 + rng.IntN(15), fmt.Sprint("cmd", rng.IntN(4))}
			recs = append(recs, doneRec(l.seq, l.text))
			if !seen[l] { // the log may repeat a line; it stands for one line
				seen[l] = true
				model.recs = append(model.recs, l)
				model.used = append(model.used, false)
			}
		}
		r := resumeFrom(t, recs, false)
		for seq := 1; seq <= 15; seq++ {
			text := fmt.Sprint("cmd", rng.IntN(5))
			if got, want := r.Done(seq, text), model.done(seq, text); got != want {
				t.Fatalf("case %d: Done(%d, %q) = %v, model says %v; log %v", iter, seq, text, got, want, recs)
			}
		}
	}
}

// TestResumeScales checks that a million identical lines, shifted by one
// inserted line, resume in linear time.
func TestResumeScales(t *testing.T) {
	const n = 300_000
	path := filepath.Join(t.TempDir(), "joblog")
	j, err := CreateJobLog(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		j.Write(Record{Seq: i, Command: "-n1 true"})
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	r, err := LoadResume(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Done(1, "-n1 hostname") {
		t.Fatal("the inserted line was done")
	}
	skipped := 0
	for i := 2; i <= n+1; i++ {
		if r.Done(i, "-n1 true") {
			skipped++
		}
	}
	if skipped != n {
		t.Errorf("%d of %d lines skipped", skipped, n)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("resume of %d lines took %v", n, d)
	}
}

func BenchmarkResumeDone(b *testing.B) {
	path := filepath.Join(b.TempDir(), "joblog")
	j, _ := CreateJobLog(path, false)
	for i := 1; i <= 100_000; i++ {
		j.Write(Record{Seq: i, Command: fmt.Sprintf("-n1 tar -cf %d.tgz %d", i, i)})
	}
	j.Close()
	r, err := LoadResume(path, false)
	if err != nil {
		b.Fatal(err)
	}
	texts := make([]string, 100_000)
	for i := range texts {
		texts[i] = fmt.Sprintf("-n1 tar -cf %d.tgz %d", i+1, i+1)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.Done(i%len(texts)+1, texts[i%len(texts)])
	}
}
