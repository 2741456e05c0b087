package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrBadLines is what Make's error is (errors.Is) when the report was
// written but the log had lines that are not records.
var ErrBadLines = errors.New("bad lines in the job log")

// badLinesError says which line was bad; it is ErrBadLines.
type badLinesError struct{ msg string }

func (e *badLinesError) Error() string        { return e.msg }
func (e *badLinesError) Is(target error) bool { return target == ErrBadLines }

// Make reads the job log at logPath ("-": standard input) and, when
// statsPath is not empty, a flux-hierarchy stats file, and writes the
// report to outPath in the format its extension names. The output is
// opened before the log is read, so that an unwritable path fails at once
// rather than after ten million lines. When some lines are not records the
// report is still written and the error (wrapping ErrBadLines) names the
// first of them.
func Make(opt Options, logPath, statsPath, outPath string) (*Report, error) {
	format, err := FormatOf(outPath)
	if err != nil {
		return nil, err
	}
	col, err := NewCollector(opt)
	if err != nil {
		return nil, err
	}
	var st *Stats
	if statsPath != "" {
		f, err := os.Open(statsPath)
		if err != nil {
			return nil, fmt.Errorf("--stats: %v", err)
		}
		st, err = ReadStats(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--stats %s: %v", statsPath, err)
		}
	}
	in := io.Reader(os.Stdin)
	source := "standard input"
	if logPath != "-" {
		f, err := os.Open(logPath)
		if err != nil {
			return nil, fmt.Errorf("job log: %v", err)
		}
		defer f.Close()
		in, source = f, logPath
	}
	out, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot write the report: %v; give -o a path in a writable directory", err)
	}
	fail := func(err error) (*Report, error) {
		out.Close()
		os.Remove(outPath)
		return nil, err
	}
	if err := col.Read(in); err != nil {
		return fail(fmt.Errorf("reading %s: %v", source, err))
	}
	rep := Build(col, st, source)
	bw := bufio.NewWriterSize(out, 64<<10)
	if err := rep.Write(bw, format); err != nil {
		return fail(fmt.Errorf("writing %s: %v", outPath, err))
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("writing %s: %v", outPath, err))
	}
	if err := out.Close(); err != nil {
		return fail(fmt.Errorf("writing %s: %v", outPath, err))
	}
	if col.Bad.Count > 0 {
		what := "not a job log"
		if col.Lines > 0 {
			what = "not all job log records"
		}
		return rep, &badLinesError{fmt.Sprintf("%s is %s: %s; the report shows the %d records read",
			source, what, col.Bad.Error(), col.Lines)}
	}
	return rep, nil
}
