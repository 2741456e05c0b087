package capacitor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// Resume answers, line by line, whether a previous run already did a line,
// from the job log it left (--resume, --resume-failed).
//
// A line is matched on its content first and its position second: a record
// with the same Seq and Command matches first; otherwise any record with the
// same Command at another Seq (lines inserted or removed since), so editing
// a command file between runs neither reruns finished work nor skips new
// lines. Each record matches at most one line, so a command listed twice runs
// twice in all.
//
// Memory is 20 bytes a record: commands are kept as 64-bit FNV-1a hashes.
// Two different commands with the same hash (odds about n²/2⁶⁵) would make
// one of them look done.
type Resume struct {
	// entries sorted by (hash, seq), one per distinct (seq, command).
	hashes []uint64
	seqs   []int64
	// next finds the first unmatched entry at or after an index (a
	// union-find with path halving): next[i] == i while entry i is
	// unmatched; len(next) == len(hashes)+1 with a sentinel at the end.
	// This keeps a million identical lines shifted by one insertion linear.
	next []int32
	done int
}

// LoadResume reads the job log at path. With failedToo (--resume-failed) a
// record with a nonzero Exitval or Signal does not count as done, so its line
// runs again. A missing job log means nothing is done yet.
func LoadResume(path string, failedToo bool) (*Resume, error) {
	type entry struct {
		hash uint64
		seq  int64
	}
	var es []entry
	err := scanJobLog(path, func(lineNo int, f *[9][]byte) error {
		seq, err := atoiField("Seq", f[0])
		if err != nil {
			return lineErr(path, lineNo, err)
		}
		if failedToo {
			exit, err := atoiField("Exitval", f[6])
			if err != nil {
				return lineErr(path, lineNo, err)
			}
			sig, err := atoiField("Signal", f[7])
			if err != nil {
				return lineErr(path, lineNo, err)
			}
			if exit != 0 || sig != 0 {
				return nil
			}
		}
		es = append(es, entry{hash: hashString(unescape(f[8])), seq: int64(seq)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(es) >= math.MaxInt32 {
		return nil, fmt.Errorf("%s holds %d records, more than --resume can track (%d); split the input", path, len(es), math.MaxInt32-1)
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	// A line rerun by an earlier resume has two records with the same Seq
	// and Command: they stand for one line and must match only one.
	es = slices.Compact(es)
	r := &Resume{
		hashes: make([]uint64, len(es)),
		seqs:   make([]int64, len(es)),
		next:   make([]int32, len(es)+1),
		done:   len(es),
	}
	for i, e := range es {
		r.hashes[i], r.seqs[i], r.next[i] = e.hash, e.seq, int32(i)
	}
	r.next[len(es)] = int32(len(es))
	return r, nil
}

func lineErr(path string, lineNo int, err error) error {
	return &resumeError{path: path, lineNo: lineNo, err: err}
}

type resumeError struct {
	path   string
	lineNo int
	err    error
}

func (e *resumeError) Error() string {
	return e.path + " line " + strconv.Itoa(e.lineNo) + ": " + e.err.Error() +
		"; repair or remove that line, or start without --resume"
}

func (e *resumeError) Unwrap() error { return e.err }

// Done reports whether the line seq with raw text text was done by a
// previous run and should be skipped; a true answer uses up its record.
func (r *Resume) Done(seq int, text string) bool {
	if r == nil || len(r.hashes) == 0 {
		return false
	}
	h := hashString(text)
	lo, _ := slices.BinarySearch(r.hashes, h)
	// Binary search for the end too: a million identical lines are one
	// group, and walking it per line would be quadratic.
	hi := lo + sort.Search(len(r.hashes)-lo, func(i int) bool { return r.hashes[lo+i] != h })
	if lo == hi {
		return false
	}
	// Same position and content first.
	if i, found := slices.BinarySearch(r.seqs[lo:hi], int64(seq)); found && r.next[lo+i] == int32(lo+i) {
		r.take(lo + i)
		return true
	}
	// Otherwise the first unmatched record of this content: one whose line
	// moved up or down since. Records below seq come first, as no later
	// line can claim them by position.
	if i := r.find(lo); i < hi {
		r.take(i)
		return true
	}
	return false
}

// Len returns how many records count as done (after --resume-failed's filter
// and merging duplicates), matched or not.
func (r *Resume) Len() int {
	if r == nil {
		return 0
	}
	return r.done
}

func (r *Resume) find(i int) int {
	for int(r.next[i]) != i {
		r.next[i] = r.next[r.next[i]]
		i = int(r.next[i])
	}
	return i
}

func (r *Resume) take(i int) { r.next[i] = int32(i + 1) }

// hashString is 64-bit FNV-1a, inlined: hash/fnv would allocate per line.
func hashString(s string) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return h
}
