package broker

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

// A client that stops reading cannot grow the broker's memory without
// bound: it submits a stream of jobs on a results stream and never reads
// again. The broker's heap stays flat (well under what the results would
// take), and the client is dropped with one log line once its backlog is
// past the limit.
func TestSleepingClientBoundsMemory(t *testing.T) {
	var logMu sync.Mutex
	var logs []string
	b, err := New(Config{Resources: testSet(4), Simulate: time.Microsecond, NoBind: true,
		KillGrace: 100 * time.Millisecond, Logf: func(f string, a ...any) {
			logMu.Lock()
			logs = append(logs, f)
			logMu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	}()
	conn := b.Connect()
	defer conn.Close()
	open, _ := overlay.NewRequest(TopicResults, nil)
	open.Tag, open.Flags = 1, overlay.FlagStreaming
	if err := conn.Send(open); err != nil {
		t.Fatal(err)
	}
	m, err := conn.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var first ResultBatch
	if err := m.Decode(&first); err != nil || first.Watcher == 0 {
		t.Fatalf("job.results: %v %+v", err, first)
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	// From here on the client never reads. It submits up to 200,000 short
	// (simulated) jobs, paced (through a second client that watches the
	// queue) so that the broker runs them as they come, however loaded the
	// machine: their results, unread, would pile up without a bound.
	watch := overlay.NewClient(b.Connect())
	defer watch.Close()
	queued := func() int {
		var r ResourceReply
		if err := watch.RPC(context.Background(), TopicResources, nil, &r); err != nil {
			return 0
		}
		return r.Pending + r.Running
	}
	jobs := make([]Jobspec, 1000)
	for i := range jobs {
		jobs[i] = Jobspec{Req: resources.Request{Tasks: 1}, Argv: []string{"true"}}
	}
	dropped := false
	var peak uint64
	for batch := 0; batch < 200 && !dropped; batch++ {
		req, _ := overlay.NewRequest(TopicSubmit, &SubmitRequest{Watcher: first.Watcher, Jobs: jobs})
		req.Tag = uint32(batch + 2)
		if err := conn.Send(req); err != nil {
			dropped = true // the broker closed the connection
		}
		for deadline := time.Now().Add(10 * time.Second); queued() > 500 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		if batch%20 == 19 {
			peak = max(peak, heap())
		}
	}
	time.Sleep(200 * time.Millisecond)
	after := heap()
	peak = max(peak, after)
	grew := int64(peak) - int64(before)
	t.Logf("heap %d MiB before, peak %d MiB, %d MiB after; the client was dropped: %v",
		before>>20, peak>>20, after>>20, dropped)
	if !dropped {
		t.Errorf("the client was never dropped")
	}
	if grew > 40<<20 || after > before+16<<20 {
		t.Errorf("the heap grew by %d MiB while a client slept", grew>>20)
	}
	logMu.Lock()
	defer logMu.Unlock()
	n := 0
	for _, l := range logs {
		if strings.Contains(l, "stopped reading") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d 'stopped reading' log lines, want 1: %q", n, logs)
	}
}
