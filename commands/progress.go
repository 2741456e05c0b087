package commands

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressLine is --progress: one status line on stderr, redrawn at most
// ten times a second: PD (submitted, not started), R, CD, F, and with --jps
// the rate of jobs ending.
type progressLine struct {
	mu                sync.Mutex // guards the counts
	total             int        // jobs to submit, when known
	sub, run, ok, bad int
	jps               bool
	start             time.Time
	w                 io.Writer
	tick              *time.Ticker
	quit              chan struct{}
	done              chan struct{}
}

func newProgressLine(total int, jps bool) *progressLine {
	p := &progressLine{total: total, jps: jps, start: time.Now(), w: os.Stderr,
		tick: time.NewTicker(100 * time.Millisecond), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.tick.C:
				p.draw(false)
			case <-p.quit:
				p.draw(true)
				return
			}
		}
	}()
	return p
}

func (p *progressLine) submitted(n int) { p.mu.Lock(); p.sub += n; p.mu.Unlock() }
func (p *progressLine) started(n int)   { p.mu.Lock(); p.run += n; p.mu.Unlock() }
func (p *progressLine) finished(failed bool) {
	p.mu.Lock()
	if failed {
		p.bad++
	} else {
		p.ok++
	}
	p.mu.Unlock()
}

func (p *progressLine) stop() {
	p.tick.Stop()
	close(p.quit)
	<-p.done
}

func (p *progressLine) draw(last bool) {
	p.mu.Lock()
	ended := p.ok + p.bad
	running := max(p.run-ended, 0)
	pending := max(p.sub-p.run, 0)
	line := fmt.Sprintf("PD:%d R:%d CD:%d F:%d", pending, running, p.ok, p.bad)
	el := time.Since(p.start)
	if p.total > 0 {
		line += fmt.Sprintf(" │ %5.1f%%", 100*float64(ended)/float64(p.total))
	}
	if p.jps {
		line += fmt.Sprintf(" │ %.1f job/s", float64(ended)/max(el.Seconds(), 1e-3))
	} else {
		line += fmt.Sprintf(" │ %s", el.Truncate(time.Second/10))
	}
	p.mu.Unlock()
	end := ""
	if last {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%s\033[K%s", line, end)
}
