package launcher

import (
	"bytes"
	"os"
	"strconv"
	"sync"
)

// A sink consumes one task's stream (stdout or stderr) in the order read.
type sink interface {
	write(p []byte)
	close() // at EOF
}

// readBufs are the read buffers of pipe readers. Pooled so a task that prints
// nothing costs no buffer allocation, and a chatty one does not allocate per
// read.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// drain reads f into s until EOF or error (a read deadline set when the
// task's process group is gone), then closes s.
func drain(f *os.File, s sink) {
	bp := readBufs.Get().(*[]byte)
	for {
		n, err := f.Read(*bp)
		if n > 0 {
			s.write((*bp)[:n])
		}
		if err != nil {
			break
		}
	}
	readBufs.Put(bp)
	s.close()
}

// capture keeps up to limit bytes of a stream in memory (Capture mode),
// optionally labelling each line.
type capture struct {
	buf       []byte
	limit     int // raw bytes kept at most; < 0 = unlimited
	n         int // raw bytes kept so far
	truncated bool
	midLine   bool   // the last byte kept was not '\n'
	label     []byte // "<rank>: " or nil
}

func (c *capture) write(p []byte) {
	if c.truncated {
		return // keep reading so the task never blocks, but drop it
	}
	if c.limit >= 0 && c.n+len(p) > c.limit {
		p = p[:c.limit-c.n]
		c.truncated = true
	}
	c.n += len(p)
	if len(p) == 0 {
		return
	}
	if c.label == nil {
		c.buf = append(c.buf, p...)
		c.midLine = p[len(p)-1] != '\n'
		return
	}
	for len(p) > 0 {
		if !c.midLine {
			c.buf = append(c.buf, c.label...)
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.buf = append(c.buf, p...)
			c.midLine = true
			return
		}
		c.buf = append(c.buf, p[:i+1]...)
		c.midLine = false
		p = p[i+1:]
	}
}

func (c *capture) close() {
	// End a cut or labelled line so the marker, or the next task's label,
	// starts a line of its own. Unlabelled output is otherwise kept exact.
	if c.midLine && (c.truncated || c.label != nil) {
		c.buf = append(c.buf, '\n')
	}
	if c.truncated {
		c.buf = append(c.buf, truncMarker(c.limit)...)
	}
}

func truncMarker(limit int) string {
	return "[flux: output truncated at " + formatSize(limit) + "; use --output FILE or --line-buffer]\n"
}

func formatSize(n int) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n > 0 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// lineSink splits a stream into lines for Stream mode. A line whose content
// (before '\n') exceeds max bytes is delivered in pieces of exactly max
// bytes, so memory per stream is bounded and a task printing without
// newlines is still seen.
type lineSink struct {
	emit    func(line []byte) // gets a fresh slice
	label   []byte
	max     int
	pending []byte // start of the current line, not yet delivered
	cont    bool   // part of the current line was delivered already
}

func (s *lineSink) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i >= 0 && len(s.pending)+i <= s.max {
			s.deliver(p[:i+1])
			p = p[i+1:]
			continue
		}
		room := s.max - len(s.pending)
		if i < 0 && len(p) <= room {
			s.pending = append(s.pending, p...)
			return
		}
		// More than max bytes before the next newline: send a piece.
		s.pending = append(s.pending, p[:room]...)
		p = p[room:]
		s.deliver(nil)
	}
}

// deliver sends label (unless continuing a line) + pending + tail.
func (s *lineSink) deliver(tail []byte) {
	n := len(s.pending) + len(tail)
	if !s.cont {
		n += len(s.label)
	}
	line := make([]byte, 0, n)
	if !s.cont {
		line = append(line, s.label...)
	}
	line = append(line, s.pending...)
	line = append(line, tail...)
	s.pending = s.pending[:0]
	s.cont = len(line) == 0 || line[len(line)-1] != '\n'
	s.emit(line)
}

func (s *lineSink) close() {
	if len(s.pending) > 0 || s.cont {
		s.deliver(newline)
	}
	s.pending = nil
}

var newline = []byte{'\n'}
