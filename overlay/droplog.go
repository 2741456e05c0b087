package overlay

import (
	"regexp"
	"sync"
	"time"
)

// addrRE matches the addresses inside a reason (a net error names both
// ends), so that drops for the same reason from many peers count together.
var addrRE = regexp.MustCompile(`(\[[0-9a-fA-F:.]+\]|\d+\.\d+\.\d+\.\d+)(:\d+)?`)

// dropLog rate-limits a LinkListener's "dropped" lines, so that a flood of
// bad connections (garbage, a port scan, more handshakes than the limit)
// costs a line a second per reason, not a line per connection. The first
// drop for a reason is logged at once, with the peer's address; the others
// within the second are counted and summed up in one line when it ends.
type dropLog struct {
	logf   func(format string, args ...any)
	window time.Duration

	mu      sync.Mutex
	reasons map[string]*dropWindow // guarded by mu; at most maxDropReasons
}

type dropWindow struct {
	start time.Time
	more  int // drops after the first in this window
}

// maxDropReasons bounds the reasons tracked at once; a drop for a further
// reason is logged as it is.
const maxDropReasons = 32

func newDropLog(logf func(format string, args ...any)) *dropLog {
	return &dropLog{logf: logf, window: time.Second, reasons: make(map[string]*dropWindow)}
}

// drop logs (or counts) one dropped connection from addr for reason.
func (d *dropLog) drop(where, addr, reason string) {
	now := time.Now()
	key := addrRE.ReplaceAllString(reason, "*")
	d.mu.Lock()
	w := d.reasons[key]
	switch {
	case w != nil && now.Sub(w.start) < d.window:
		w.more++
		d.mu.Unlock()
		return
	case w == nil && len(d.reasons) >= maxDropReasons:
		d.mu.Unlock()
		d.logf("overlay: dropped %s: %s", addr, reason)
		return
	}
	d.reasons[key] = &dropWindow{start: now}
	d.mu.Unlock()
	d.logf("overlay: dropped %s: %s", addr, reason)
	time.AfterFunc(d.window, func() { d.flush(where, key) })
}

// flush ends reason's window (reason with its addresses as *): one line
// for the drops it counted.
func (d *dropLog) flush(where, reason string) {
	d.mu.Lock()
	w := d.reasons[reason]
	delete(d.reasons, reason)
	d.mu.Unlock()
	if w != nil && w.more > 0 {
		d.logf("overlay: dropped %d more connections on %s in the last %v: %s", w.more, where, d.window, reason)
	}
}
