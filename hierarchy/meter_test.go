package hierarchy

import (
	"testing"
	"time"
)

// A steady rate is learned within a few time constants, and forgotten when
// the events stop; the stock follows it within its bounds.
func TestMeter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var m meter
	if r := m.rate(t0); r != 0 {
		t.Fatalf("rate before any event: %v", r)
	}
	now := t0
	for i := 0; i < 100; i++ { // 1,600 events a second for a second, in bursts of 16
		now = now.Add(10 * time.Millisecond)
		m.add(16, now)
	}
	if r := m.rate(now); r < 1400 || r > 1800 {
		t.Errorf("rate after a second at 1600/s: %.0f", r)
	}
	if s := m.stock(now, 1, 64); s != 64 {
		t.Errorf("stock at 1600/s (80 wanted, at most 64): %d", s)
	}
	if s := m.stock(now, 1, 1000); s < 70 || s > 90 {
		t.Errorf("stock at 1600/s: %d, want about 80", s)
	}
	later := now.Add(2 * time.Second)
	if r := m.rate(later); r > 1 {
		t.Errorf("rate 2 s after the last event: %.3f", r)
	}
	if s := m.stock(later, 3, 64); s != 3 {
		t.Errorf("stock when idle: %d, want the least, 3", s)
	}
	var slow meter
	now = t0
	for i := 0; i < 10; i++ { // one event every 10 s: lines that run long
		now = now.Add(10 * time.Second)
		slow.add(1, now)
	}
	if s := slow.stock(now, 1, 64); s != 1 {
		t.Errorf("stock for long lines: %d, want 1", s)
	}
}
