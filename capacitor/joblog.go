package capacitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JobLogHeader is the first line of a job log: GNU parallel's --joblog
// columns, so scripts written for parallel read ours unchanged.
const JobLogHeader = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand"

// Record is one finished line in the job log.
type Record struct {
	Seq     int
	Host    string
	Start   time.Time
	Runtime time.Duration
	Send    int64
	Receive int64
	Exitval int
	Signal  int
	Command string // the line's raw Text, options included
}

// JobLog appends records to a job log file through a buffer.
type JobLog struct {
	path string
	mu   sync.Mutex // guards f, w and buf: the runner may report from more than one goroutine
	f    *os.File
	w    *bufio.Writer
	buf  []byte // one record being formatted, reused
}

// CreateJobLog opens the job log at path. Without appendMode it starts the
// file afresh with the header. With appendMode (--resume) it keeps the
// records already there: it writes the header only into an empty or new
// file, refuses a file that is not a job log, and cuts off a last line torn
// by a crash, so that the first new record does not run into it.
func CreateJobLog(path string, appendMode bool) (*JobLog, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendMode {
		flags = os.O_RDWR | os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("job log: %w; check that the directory exists and is writable", err)
	}
	j := &JobLog{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}
	needHeader := true
	if appendMode {
		if needHeader, err = prepareAppend(path, f); err != nil {
			f.Close()
			return nil, err
		}
	}
	if needHeader {
		if _, err := f.WriteString(JobLogHeader + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("job log %s: %w", path, err)
		}
	}
	return j, nil
}

// prepareAppend checks an existing job log, truncates a torn last line and
// positions f at the end. It reports whether the file still needs a header.
func prepareAppend(path string, f *os.File) (bool, error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, fmt.Errorf("job log %s: %w", path, err)
	}
	if size == 0 {
		return true, nil
	}
	head := make([]byte, min(size, int64(len(JobLogHeader)+1)))
	if _, err := f.ReadAt(head, 0); err != nil {
		return false, fmt.Errorf("job log %s: %w", path, err)
	}
	if !bytes.HasPrefix([]byte(JobLogHeader+"\n"), head) {
		return false, notJobLog(path, head)
	}
	// Find the end of the last complete line; anything after it is a record
	// cut short by a crash and is dropped (ReadJobLog ignores it too).
	keep, err := lastNewline(f, size)
	if err != nil {
		return false, fmt.Errorf("job log %s: %w", path, err)
	}
	if keep < size {
		if err := f.Truncate(keep); err != nil {
			return false, fmt.Errorf("job log %s: cannot cut its torn last line: %w", path, err)
		}
		if _, err := f.Seek(keep, io.SeekStart); err != nil {
			return false, fmt.Errorf("job log %s: %w", path, err)
		}
	}
	return keep == 0, nil
}

// lastNewline returns the offset just past the last '\n' in the first size
// bytes of f, or 0 if there is none.
func lastNewline(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func notJobLog(path string, head []byte) error {
	first, _, _ := bytes.Cut(head, []byte("\n"))
	return fmt.Errorf("%s is not a job log: its first line is %q, not the header %q; "+
		"give --joblog a new file or one a previous run wrote", path, first, JobLogHeader)
}

// Write adds one record to the buffer; Flush makes it reach the file.
func (j *JobLog) Write(r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("job log " + j.path + ": write after Close")
	}
	b := j.buf[:0]
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, '\t')
	b = appendEscaped(b, r.Host)
	b = append(b, '\t')
	b = appendMillis(b, r.Start.UnixMilli())
	b = append(b, '\t')
	b = appendMillis(b, r.Runtime.Milliseconds())
	b = append(b, '\t')
	b = strconv.AppendInt(b, r.Send, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, r.Receive, 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(r.Exitval), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(r.Signal), 10)
	b = append(b, '\t')
	b = appendEscaped(b, r.Command)
	b = append(b, '\n')
	j.buf = b
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("job log %s: %w", j.path, err)
	}
	return nil
}

// Flush writes the buffered records to the file. The runner calls it after
// every batch of results, so a crash of the process loses at most one batch.
// It does not fsync: that would cost a disk round trip per batch, and the
// page cache survives a process crash.
func (j *JobLog) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("job log %s: %w", j.path, err)
	}
	return nil
}

// Close flushes, syncs and closes the file. Closing twice is harmless.
func (j *JobLog) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.w.Flush()
	if serr := j.f.Sync(); err == nil {
		err = serr
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	if err != nil {
		return fmt.Errorf("job log %s: %w", j.path, err)
	}
	return nil
}

// appendMillis formats a count of milliseconds as seconds with 3 decimals,
// the way GNU parallel prints Starttime and JobRuntime.
func appendMillis(b []byte, ms int64) []byte {
	if ms < 0 {
		b = append(b, '-')
		ms = -ms // a time before 1970 is the only way here; MinInt64 cannot occur from UnixMilli
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// parseMillis reads seconds with up to 3 decimals (more are truncated), with
// the leading blanks GNU parallel pads with.
func parseMillis(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	var ms int64
	if whole != "" {
		sec, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || sec < 0 || sec > (1<<62)/1000 || whole[0] == '+' || whole[0] == '-' {
			return 0, false
		}
		ms = sec * 1000
	}
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 3 {
			ms += int64(c-'0') * [3]int64{100, 10, 1}[i]
		}
	}
	if neg {
		ms = -ms
	}
	return ms, true
}

// appendEscaped writes s so that it holds no tab or newline and reads back
// exactly: backslash, tab and newline become \\, \t and \n.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// unescape reverses appendEscaped. An unknown escape is kept as written, so
// a command logged raw by GNU parallel keeps its backslashes.
func unescape(s []byte) string {
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\':
				c = '\\'
				i++
			case 't':
				c = '\t'
				i++
			case 'n':
				c = '\n'
				i++
			}
		}
		out = append(out, c)
	}
	return string(out)
}

// ReadJobLog returns the records of a job log. A missing file has no
// records; a last line without its newline (a crash mid-write) is ignored; a
// file that does not start with the header is an error.
func ReadJobLog(path string) ([]Record, error) {
	var recs []Record
	err := scanJobLog(path, func(lineNo int, f *[9][]byte) error {
		r, err := parseRecord(f)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", path, lineNo, err)
		}
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// parseRecord converts the nine columns of one job log line.
func parseRecord(f *[9][]byte) (Record, error) {
	var r Record
	var err error
	if r.Seq, err = atoiField("Seq", f[0]); err != nil {
		return r, err
	}
	r.Host = unescape(f[1])
	start, ok := parseMillis(string(f[2]))
	if !ok {
		return r, fmt.Errorf("Starttime %q is not seconds such as 1732610000.123", f[2])
	}
	r.Start = time.UnixMilli(start)
	rt, ok := parseMillis(string(f[3]))
	if !ok {
		return r, fmt.Errorf("JobRuntime %q is not seconds such as 0.004", f[3])
	}
	r.Runtime = time.Duration(rt) * time.Millisecond
	if r.Send, err = int64Field("Send", f[4]); err != nil {
		return r, err
	}
	if r.Receive, err = int64Field("Receive", f[5]); err != nil {
		return r, err
	}
	if r.Exitval, err = atoiField("Exitval", f[6]); err != nil {
		return r, err
	}
	if r.Signal, err = atoiField("Signal", f[7]); err != nil {
		return r, err
	}
	r.Command = unescape(f[8])
	return r, nil
}

func int64Field(name string, b []byte) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a whole number", name, b)
	}
	return n, nil
}

func atoiField(name string, b []byte) (int, error) {
	n, err := int64Field(name, b)
	if err != nil || int64(int(n)) != n {
		return 0, fmt.Errorf("%s %q is not a whole number", name, b)
	}
	return int(n), nil
}

// scanJobLog calls fn with the columns of every complete record line, in
// file order, without holding the file in memory: a resume of ten million
// lines reads its log in one pass. lineNo counts the header as line 1.
func scanJobLog(path string, fn func(lineNo int, f *[9][]byte) error) error {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("job log: %w", err)
	}
	defer file.Close()
	br := bufio.NewReaderSize(file, 64<<10)
	var fields [9][]byte
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A record longer than the buffer: gather it whole.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF {
			// No newline: a torn last line (or a torn header) is ignored.
			if lineNo == 1 && len(line) > 0 && !bytes.HasPrefix([]byte(JobLogHeader), line) {
				return notJobLog(path, line)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("job log %s: %w", path, err)
		}
		line = line[:len(line)-1]
		if lineNo == 1 {
			if string(line) != JobLogHeader {
				return notJobLog(path, line)
			}
			continue
		}
		if len(line) == 0 {
			continue
		}
		if !splitRecord(line, &fields) {
			return fmt.Errorf("%s line %d: not a job log record (want 9 tab-separated columns): %q; "+
				"repair or remove that line, or start without --resume", path, lineNo, line)
		}
		if err := fn(lineNo, &fields); err != nil {
			return err
		}
	}
}

// splitRecord cuts a line into the nine columns. The Command column takes
// the rest of the line, so a raw tab in a command logged by GNU parallel does
// not make the line unreadable.
func splitRecord(line []byte, f *[9][]byte) bool {
	for i := 0; i < 8; i++ {
		tab := bytes.IndexByte(line, '\t')
		if tab < 0 {
			return false
		}
		f[i], line = line[:tab], line[tab+1:]
	}
	f[8] = line
	return true
}
