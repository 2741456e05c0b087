package capacitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// maxLineBytes bounds one input line; a longer line is reported as an error
// for that line and skipped, and reading goes on.
const maxLineBytes = 1 << 20

// item is one input line after parsing: a job to submit, or an error to
// report. Blank lines and comments never become items, they are only
// counted; lines that --resume skips become items marked resumed.
type item struct {
	line  Line
	file  string // the input's name when there are several, else ""
	local int    // line number within its input
	err   string // why the line cannot run; "" for a job
	// resumed marks a line --resume skips (done in an earlier run): it
	// only tells line dependencies that it ended, as a success.
	resumed bool
}

// sourceStats counts the lines that produce no item.
type sourceStats struct {
	skipped int // already done according to the job log (--resume)
	lines   int // physical lines read
}

// input is one opened command source.
type input struct {
	name string
	r    io.Reader
	c    io.Closer
}

// openInputs opens every command file before anything runs, so an unreadable
// file is a usage error and not a surprise halfway through.
func openInputs(files []string, stdin io.Reader) ([]input, error) {
	if len(files) == 0 {
		return []input{{name: "", r: stdin}}, nil
	}
	var ins []input
	for _, f := range files {
		if f == "-" {
			ins = append(ins, input{name: "", r: stdin})
			continue
		}
		fh, err := os.Open(f)
		if err == nil {
			var st os.FileInfo
			if st, err = fh.Stat(); err == nil && st.IsDir() {
				err = errors.New("is a directory")
			}
		}
		if err != nil {
			if fh != nil {
				fh.Close()
			}
			closeInputs(ins)
			return nil, fmt.Errorf("cannot read --command_file %s: %v", f, unwrapPathError(err))
		}
		ins = append(ins, input{name: f, r: fh, c: fh})
	}
	return ins, nil
}

func closeInputs(ins []input) {
	for _, in := range ins {
		if in.c != nil {
			in.c.Close()
		}
	}
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// source reads the inputs in order and sends parsed items in batches. A batch
// is cut at `batch` items or as soon as no more input is buffered, so a slow
// producer (a pipe) sees its first line start at once, while a file goes in
// large batches. Line numbers (Seq) count physical lines across all inputs.
type source struct {
	ins     []input
	multi   bool // several inputs: errors name the file
	def     Defaults
	getenv  func(string) string
	resume  *Resume
	batch   int
	out     chan<- []item
	stats   sourceStats
	readErr error
}

func (s *source) run(ctx context.Context) {
	defer close(s.out)
	defer closeInputs(s.ins)
	seq := 0
	buf := make([]item, 0, s.batch)
	flush := func() bool {
		if len(buf) == 0 {
			return true
		}
		select {
		case s.out <- buf:
			buf = make([]item, 0, s.batch)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, in := range s.ins {
		br := bufio.NewReaderSize(in.r, 64<<10)
		local := 0
		for {
			text, tooLong, err := readLine(br)
			if err != nil && len(text) == 0 && !tooLong {
				if err != io.EOF {
					s.readErr = fmt.Errorf("reading %s: %v", nameOr(in.name, "standard input"), err)
				}
				break
			}
			seq++
			local++
			s.stats.lines++
			if it, ok := s.parse(seq, local, in.name, text, tooLong); ok {
				buf = append(buf, it)
			}
			if len(buf) >= s.batch || (br.Buffered() == 0 && len(buf) > 0) {
				if !flush() {
					return
				}
			}
			if err != nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
		}
		if s.readErr != nil {
			break
		}
	}
	flush()
}

func (s *source) parse(seq, local int, file, text string, tooLong bool) (item, bool) {
	if tooLong {
		return item{line: Line{Seq: seq, Text: text[:80] + "..."}, file: s.fileName(file), local: local,
			err: fmt.Sprintf("longer than %d bytes; put long commands in a script", maxLineBytes)}, true
	}
	l, skip, err := ParseLine(seq, text, s.def, s.getenv)
	if skip {
		return item{}, false
	}
	if err != nil {
		var le *LineError
		msg := err.Error()
		if errors.As(err, &le) {
			msg = le.Msg
		}
		l.Seq, l.Text = seq, strings.TrimSpace(text)
		return item{line: l, file: s.fileName(file), local: local, err: msg}, true
	}
	if s.resume != nil && s.resume.Done(seq, l.Text) {
		s.stats.skipped++
		return item{line: Line{Seq: seq}, local: local, resumed: true}, true
	}
	if msg := lineDepsToSeq(&l, seq, local); msg != "" {
		return item{line: Line{Seq: seq, Text: l.Text}, file: s.fileName(file), local: local, err: msg}, true
	}
	return item{line: l, file: s.fileName(file), local: local}, true
}

// lineDepsToSeq turns afterok:line:N, N counted within the line's own
// input, into the Seq of that line (seq counts across inputs).
func lineDepsToSeq(l *Line, seq, local int) string {
	if seq == local {
		return ""
	}
	copied := false
	for i, d := range l.Deps {
		if d.Line == 0 {
			continue
		}
		if d.Line >= local {
			return fmt.Sprintf("--dependency %s: line %d is not before this line; a line can depend only on earlier lines of its file", d, d.Line)
		}
		if !copied {
			l.Deps, copied = slices.Clone(l.Deps), true // it may share the defaults' array
		}
		l.Deps[i].Line = seq - local + d.Line
	}
	return ""
}

func (s *source) fileName(f string) string {
	if s.multi {
		return f
	}
	return ""
}

// where names the line as the user knows it: its number in its input.
func (it *item) where() string {
	if it.file != "" {
		return fmt.Sprintf("%s line %d", it.file, it.local)
	}
	return fmt.Sprintf("line %d", it.local)
}

// readLine returns the next line without its newline. A line longer than
// maxLineBytes is consumed whole and returned truncated with tooLong set.
func readLine(br *bufio.Reader) (text string, tooLong bool, err error) {
	var long []byte
	for {
		frag, e := br.ReadSlice('\n')
		if e == bufio.ErrBufferFull {
			if len(long) < maxLineBytes {
				long = append(long, frag...)
			} else {
				tooLong = true
			}
			continue
		}
		if long != nil {
			long = append(long, frag...)
			if len(long) > maxLineBytes {
				tooLong = true
				long = long[:maxLineBytes]
			}
			frag = long
		}
		n := len(frag)
		if n > 0 && frag[n-1] == '\n' {
			n--
			if n > 0 && frag[n-1] == '\r' {
				n--
			}
		}
		return string(frag[:n]), tooLong, e
	}
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
