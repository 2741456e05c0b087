package capacitor

import (
	"sync"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// Backend runs the jobs the capacitor submits: an instance (the usual
// case), or a tree of child instances (flux-hierarchy). Every method but
// Close is called from the run loop only.
type Backend interface {
	// Submit hands over a batch of jobs sharing the environment env; done
	// is called exactly once, from any goroutine, with the id (or the
	// reason for refusal) of each, or with an error for the whole batch.
	// A job's Cookie is its line number; results carry it back.
	Submit(jobs []broker.Jobspec, env []string, done func(broker.SubmitReply, error)) error
	// Results delivers finished jobs (and streamed output) in batches.
	Results() <-chan *broker.ResultBatch
	// Lost delivers the error that ended the backend; nothing more comes.
	Lost() <-chan error
	// Cancel kills or dequeues jobs by the ids Submit gave; their results
	// still come (canceled).
	Cancel(ids []uint64)
	// Close releases the backend.
	Close()
}

// InputEnder is a Backend that wants to know when the input has ended (a
// tree's children drain and exit then, freeing their cores for lines that
// wait for a larger instance).
type InputEnder interface {
	EndOfInput()
}

// instanceBackend submits to one instance through its job service and
// watches results on one job.results stream.
type instanceBackend struct {
	c       *overlay.Client
	stream  *overlay.Stream
	watcher uint64
	results chan *broker.ResultBatch
	lost    chan error
	lastEnv []string // sent with an earlier batch: later batches with the same slice say SameEnv
	closed  chan struct{}
	once    sync.Once
}

// NewInstanceBackend runs jobs in the instance behind c.
func NewInstanceBackend(c *overlay.Client) (Backend, error) {
	return NewInstanceBackendWith(c, nil)
}

// NewInstanceBackendWith is NewInstanceBackend with results-stream options
// (with Started, each batch also names the jobs that started).
func NewInstanceBackendWith(c *overlay.Client, wr *broker.WatchRequest) (Backend, error) {
	s, watcher, err := broker.WatchResultsWith(c, wr)
	if err != nil {
		return nil, err
	}
	b := &instanceBackend{c: c, stream: s, watcher: watcher,
		results: make(chan *broker.ResultBatch, 16), lost: make(chan error, 1), closed: make(chan struct{})}
	go func() {
		for {
			m, err := s.Recv()
			if err != nil {
				b.lost <- err // buffered for this one error
				return
			}
			var rb broker.ResultBatch
			if err := m.Decode(&rb); err != nil {
				b.lost <- err
				return
			}
			select {
			case b.results <- &rb:
			case <-b.closed: // nobody reads any more
				return
			}
		}
	}()
	return b, nil
}

func (b *instanceBackend) Submit(jobs []broker.Jobspec, env []string, done func(broker.SubmitReply, error)) error {
	req := broker.SubmitRequest{Env: env, Watcher: b.watcher, Jobs: jobs}
	if sameSlice(env, b.lastEnv) {
		req.Env, req.SameEnv = nil, true
	}
	b.lastEnv = env
	return b.c.Go(broker.TopicSubmit, &req, func(m *overlay.Msg, err error) {
		var reply broker.SubmitReply
		if err == nil {
			err = m.Decode(&reply)
		}
		done(reply, err)
	})
}

func (b *instanceBackend) Results() <-chan *broker.ResultBatch { return b.results }
func (b *instanceBackend) Lost() <-chan error                  { return b.lost }

func (b *instanceBackend) Cancel(ids []uint64) {
	if len(ids) > 0 {
		_ = b.c.Go(broker.TopicCancel, &broker.CancelRequest{IDs: ids}, func(*overlay.Msg, error) {})
	}
}

func (b *instanceBackend) Close() {
	b.once.Do(func() { close(b.closed) })
	b.stream.Close()
}

// sameSlice reports whether a and b are the same non-empty slice (not equal
// contents: the same backing array and length, as a run's batches share).
func sameSlice(a, b []string) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}
