package overlay

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TrySend never waits: to a peer that stops reading it queues up to the
// frame or byte bound and then fails with ErrSendQueueFull, at once; once the
// peer reads again, sends succeed again. Send keeps waiting (back-pressure).
func TestTrySendNeverBlocks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		qlen     int
		maxBytes int64
		payload  int
		minOK    int // at least this many succeed before the queue is full
		maxOK    int // and at most this many
	}{
		{"frames", 8, 0, 10, 8, 8 + 64},              // the writer may hold a few in its buffer/the pipe
		{"bytes", 1 << 12, 64 << 10, 8 << 10, 1, 40}, // 8 KiB frames against a 64 KiB bound
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe() // unbuffered: nothing moves while b does not read
			s := newStreamConn(a, tc.qlen, tc.maxBytes)
			defer s.Close()
			defer b.Close()
			m := &Msg{Type: Event, Topic: "t", Payload: mustPayload(t, make([]byte, tc.payload))}
			ok := 0
			start := time.Now()
			var err error
			for i := 0; i < 10000; i++ {
				if err = s.TrySend(m); err != nil {
					break
				}
				ok++
			}
			if !errors.Is(err, ErrSendQueueFull) {
				t.Fatalf("after %d sends: %v, want ErrSendQueueFull", ok, err)
			}
			if ok < tc.minOK || ok > tc.maxOK {
				t.Errorf("%d sends succeeded before the queue was full, want %d..%d", ok, tc.minOK, tc.maxOK)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("TrySend took %v to fill the queue; it must never wait", d)
			}
			// The peer reads again: the queue drains and sends succeed.
			go func() {
				buf := make([]byte, 64<<10)
				for {
					if _, err := b.Read(buf); err != nil {
						return
					}
				}
			}()
			deadline := time.Now().Add(5 * time.Second)
			for s.TrySend(m) != nil {
				if time.Now().After(deadline) {
					t.Fatal("the queue never drained once the peer read")
				}
				time.Sleep(time.Millisecond)
			}
			if err := TrySend(s, m); err != nil {
				t.Errorf("TrySend helper: %v", err)
			}
		})
	}
}
