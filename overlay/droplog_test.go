package overlay

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// droppedCount adds up the connections that log lines say were dropped for
// reason: one per "dropped ADDR: reason" line, N per "dropped N more" line.
func droppedCount(log, reason string) int {
	more := regexp.MustCompile(`dropped (\d+) more connections`)
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, reason) {
			continue
		}
		if m := more.FindStringSubmatch(l); m != nil {
			k, _ := strconv.Atoi(m[1])
			n += k
		} else if strings.Contains(l, "dropped ") {
			n++
		}
	}
	return n
}

// A flood of drops costs a line for the first and one summing up the rest
// of its second, per reason; nothing goes uncounted.
func TestDropLogFlood(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	d := newDropLog(func(f string, a ...any) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf(f, a...))
		mu.Unlock()
	})
	d.window = 100 * time.Millisecond
	for i := 0; i < 200; i++ {
		d.drop("127.0.0.1:8020", fmt.Sprintf("10.0.0.1:%d", 1000+i), "not a flux broker (bad preamble)")
		d.drop("127.0.0.1:8020", fmt.Sprintf("10.0.0.1:%d", 1000+i),
			fmt.Sprintf("reading the peer's greeting: read tcp 127.0.0.1:8020->10.0.0.1:%d: connection reset by peer", 1000+i))
		if i%50 == 0 {
			d.drop("127.0.0.1:8020", "10.0.0.2:1", "failed authentication (wrong instance key?)")
		}
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	log := strings.Join(lines, "\n")
	n := len(lines)
	mu.Unlock()
	if got := droppedCount(log, "bad preamble"); got != 200 {
		t.Errorf("%d bad-preamble drops accounted for, want 200:\n%s", got, log)
	}
	if got := droppedCount(log, "connection reset by peer"); got != 200 {
		t.Errorf("%d reset drops accounted for, want 200 (the addresses in the reason differ):\n%s", got, log)
	}
	if got := droppedCount(log, "wrong instance key"); got != 4 {
		t.Errorf("%d wrong-key drops accounted for, want 4:\n%s", got, log)
	}
	if n > 9 {
		t.Errorf("%d log lines for a flood of 204 drops; want a few:\n%s", n, log)
	}
}
