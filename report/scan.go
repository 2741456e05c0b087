package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine bounds one job log line (the capacitor refuses input lines over
// 1 MiB, so its records fit). A longer line is skipped as bad, so that a
// file without newlines cannot make the reader hold it whole.
const MaxLine = 1<<20 + 4096

// BadLines counts the lines that are not job log records and remembers the
// first of them.
type BadLines struct {
	Count     int64
	FirstLine int64  // line number (the header is line 1); 0 when Count is 0
	FirstMsg  string // what is wrong with it
}

func (b *BadLines) add(lineNo int64, msg string) {
	if b.Count == 0 {
		b.FirstLine, b.FirstMsg = lineNo, msg
	}
	b.Count++
}

// Error is a one-line account of the bad lines, or "" when there are none.
func (b *BadLines) Error() string {
	if b.Count == 0 {
		return ""
	}
	more := ""
	if b.Count > 1 {
		more = fmt.Sprintf(" (%d bad lines in all, skipped)", b.Count)
	} else {
		more = " (skipped)"
	}
	return fmt.Sprintf("line %d: %s%s", b.FirstLine, b.FirstMsg, more)
}

// Scan reads a job log from r and calls fn for every record, in file order.
// Lines that are not records are counted in bad and skipped; a missing or
// wrong header is bad line 1, and the lines after it are still read as
// records. A last line without its newline (a run still writing, or one
// that crashed) is read if it parses and otherwise ignored. Only a read
// error stops the scan.
func Scan(r io.Reader, bad *BadLines, fn func(*Record)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than the buffer, gathered (up to MaxLine)
	var rec Record
	for lineNo := int64(1); ; lineNo++ {
		line, err := br.ReadSlice('\n')
		tooLong := false
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				if len(long)+len(line) <= MaxLine {
					long = append(long, line...)
				} else {
					tooLong = true
				}
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return err
		}
		torn := err == io.EOF
		if torn && len(line) == 0 {
			if lineNo == 1 {
				bad.add(1, "the input is empty, without the job log header; give a file written by --joblog")
			}
			return nil
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		switch {
		case tooLong:
			bad.add(lineNo, fmt.Sprintf("longer than %d bytes; is this a job log?", MaxLine))
		case lineNo == 1:
			if string(bytes.TrimSuffix(line, []byte("\r"))) != Header {
				bad.add(1, fmt.Sprintf("is %q, not the job log header %q; give a file written by --joblog", clip(line), Header))
				if ParseRecord(line, &rec) == nil { // a log without its header: keep the record
					fn(&rec)
				}
			}
		default:
			if perr := ParseRecord(line, &rec); perr != nil {
				if !torn {
					bad.add(lineNo, perr.Error())
				}
			} else {
				fn(&rec)
			}
		}
		if torn {
			return nil
		}
		if cap(long) > 1<<20 {
			long = nil // do not keep a huge buffer for one long line
		}
	}
}
