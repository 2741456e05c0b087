package client

import (
	"context"
	"errors"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// Watcher submits jobs whose results it then delivers as they end, on one
// stream, in batches: the way to run many jobs. Jobs submitted through a
// watcher are canceled if it is closed (or its program dies) before they end.
//
// One goroutine reads the stream into a channel of batches (at most 64
// waiting; past that the stream's own flow control holds the instance back).
// Next is meant for one goroutine at a time.
type Watcher struct {
	c       *Client
	s       *overlay.Stream
	id      uint64
	batches chan []Result // closed when the stream ends; err says why
	err     error         // written before batches is closed
	queue   []Result      // the current batch's results not yet returned (Next's goroutine only)
}

// Watch opens a results stream.
func (c *Client) Watch(ctx context.Context) (*Watcher, error) {
	s, id, err := broker.WatchResults(c.c)
	if err != nil {
		return nil, err
	}
	w := &Watcher{c: c, s: s, id: id, batches: make(chan []Result, 64)}
	go w.read()
	return w, nil
}

func (w *Watcher) read() {
	defer close(w.batches)
	for {
		m, err := w.s.Recv()
		if err != nil {
			w.err = err
			return
		}
		var b broker.ResultBatch
		if err := m.Decode(&b); err != nil {
			w.err = err
			return
		}
		if len(b.Results) == 0 {
			continue
		}
		rs := make([]Result, len(b.Results))
		for i := range b.Results {
			rs[i] = resultOf(&b.Results[i])
		}
		w.batches <- rs
	}
}

// Submit submits jobs whose results Next will return (as SubmitMany).
func (w *Watcher) Submit(ctx context.Context, jobs ...Job) ([]JobID, error) {
	return w.c.submit(ctx, jobs, w.id)
}

// ErrWatcherClosed is returned by Next once the stream has ended (after
// Close, or when the instance went away: then the error wraps why).
var ErrWatcherClosed = errors.New("client: watcher closed")

// Next returns the next result of a job submitted through w, waiting for
// one to end. Results come in order of completion, not submission.
func (w *Watcher) Next(ctx context.Context) (Result, error) {
	for len(w.queue) == 0 {
		select {
		case rs, ok := <-w.batches:
			if !ok {
				if w.err != nil && !errors.Is(w.err, overlay.ErrClosed) {
					return Result{}, errors.Join(ErrWatcherClosed, w.err)
				}
				return Result{}, ErrWatcherClosed
			}
			w.queue = rs
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	r := w.queue[0]
	w.queue = w.queue[1:]
	return r, nil
}

// Close ends the stream; jobs of w still pending or running are canceled.
func (w *Watcher) Close() { w.s.Close() }
