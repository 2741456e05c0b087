package broker

import (
	"context"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// BenchmarkLocalJobsSimulated is a leaf's hot path without the tree: lines
// submitted in batches of 16 to a 16-core broker whose tasks are simulated
// (1 µs each), through LocalJobs, until their results are back. ns/op and
// allocs/op are per line: the broker's own cost of a task.
func BenchmarkLocalJobsSimulated(b *testing.B) {
	br, err := New(Config{Resources: testSet(16), Simulate: time.Microsecond, NoBind: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		br.Shutdown(ctx)
	}()
	if err := br.WaitReady(context.Background()); err != nil {
		b.Fatal(err)
	}
	l, err := br.LocalJobs(true)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	env := []string{"PATH=/usr/bin:/bin"}
	batch := make([]Jobspec, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(16, b.N-done)
		for i := range batch[:n] {
			batch[i] = Jobspec{Cookie: uint64(done + i + 1), Req: resources.Request{Tasks: 1}, Argv: []string{"true"}}
		}
		if err := l.Submit(batch[:n], env, func(SubmitReply, error) {}); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < n; {
			rb := <-l.Results()
			got += len(rb.Results)
		}
		done += n
	}
}
