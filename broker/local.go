package broker

import (
	"errors"
	"sync"
)

// LocalJobs is the job service for a client in the broker's own process:
// flux start runs a flux-hierarchy leaf that way, and the leaf's lines are
// the instance's whole job stream. Batches go to the loop as calls and
// results come back as each pass's batch, without encoding, a socket or the
// client goroutines a connection has. It has the methods of
// capacitor.Backend. Only rank 0 has a job manager.
type LocalJobs struct {
	b       *Broker
	w       *watcher // set on the loop, used only there
	results chan *ResultBatch
	lost    chan error

	mu      sync.Mutex
	pending *ResultBatch  // batches the loop handed over, merged, not yet sent on results
	wake    chan struct{} // 1-buffered: pending has something
	closed  chan struct{}
	once    sync.Once
}

// ErrNotRankZero says a LocalJobs was asked of a broker that has no job
// manager.
var ErrNotRankZero = errors.New("only rank 0 of an instance runs jobs")

// LocalJobs opens the in-process job service; with started, each batch also
// names (by cookie) the jobs that started.
func (b *Broker) LocalJobs(started bool) (*LocalJobs, error) {
	l := &LocalJobs{b: b, results: make(chan *ResultBatch, 16), lost: make(chan error, 1),
		wake: make(chan struct{}, 1), closed: make(chan struct{})}
	opened := make(chan error, 1)
	ok := b.call(func() {
		jm := b.st.jm
		if jm == nil {
			opened <- ErrNotRankZero
			return
		}
		jm.nextW++
		l.w = &watcher{id: jm.nextW, local: l.deliver, starts: started}
		jm.watchers[l.w.id] = l.w
		opened <- nil
	})
	if !ok {
		return nil, ErrShutdown
	}
	if err := <-opened; err != nil {
		return nil, err
	}
	go l.pump()
	return l, nil
}

// call hands fn to the loop; false once the loop has ended. (A call queued
// as the loop ends is dropped: the Lost that follows says so.)
func (b *Broker) call(fn func()) bool {
	select {
	case <-b.stopped:
		return false
	default:
	}
	select {
	case b.calls <- fn:
		return true
	case <-b.stopped:
		return false
	}
}

// deliver runs on the loop: it must not block, so batches merge until the
// pump takes them. They are bounded by the jobs submitted.
func (l *LocalJobs) deliver(rb *ResultBatch) {
	l.mu.Lock()
	if p := l.pending; p != nil {
		p.Output = append(p.Output, rb.Output...)
		p.Results = append(p.Results, rb.Results...)
		p.Started = append(p.Started, rb.Started...)
	} else {
		l.pending = rb
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// pump moves merged batches to results, and reports the broker's end.
func (l *LocalJobs) pump() {
	for {
		select {
		case <-l.wake:
			l.mu.Lock()
			rb := l.pending
			l.pending = nil
			l.mu.Unlock()
			if rb == nil {
				continue
			}
			select {
			case l.results <- rb:
			case <-l.closed:
				return
			}
		case <-l.b.stopped:
			l.lose(ErrShutdown)
			return
		case <-l.closed:
			return
		}
	}
}

// Submit queues jobs sharing env; done is called once, on its own
// goroutine, with their ids or why they were refused.
func (l *LocalJobs) Submit(jobs []Jobspec, env []string, done func(SubmitReply, error)) error {
	req := &SubmitRequest{Env: env, Jobs: jobs}
	if !l.b.call(func() {
		var reply SubmitReply
		var err error
		switch jm := l.b.st.jm; {
		case l.w.gone:
			err = ErrClosed // its jobs would run with nobody to hear of them
		case l.b.st.stopping:
			err = ErrShutdown
		case jm.sched == nil:
			err = errors.New("the instance is starting")
		default:
			reply, err = jm.submitJobs(req, l.w)
		}
		go done(reply, err)
	}) {
		return ErrShutdown
	}
	return nil
}

// Results delivers finished jobs, and the jobs that started, in batches.
func (l *LocalJobs) Results() <-chan *ResultBatch { return l.results }

// lose reports the end once; lost has room for one.
func (l *LocalJobs) lose(err error) {
	select {
	case l.lost <- err:
	default:
	}
}

// ErrClosed is what Lost reports after Close.
var ErrClosed = errors.New("the job service was closed")

// Lost delivers ErrShutdown when the broker stops, ErrClosed after Close.
func (l *LocalJobs) Lost() <-chan error { return l.lost }

// Cancel kills or dequeues jobs by id; their results still come.
func (l *LocalJobs) Cancel(ids []uint64) {
	l.b.call(func() {
		for _, id := range ids {
			l.b.st.jm.cancelJob(id)
		}
	})
}

// Close stops the results and cancels the jobs still queued or running:
// nobody would hear of them.
func (l *LocalJobs) Close() {
	l.once.Do(func() {
		close(l.closed)
		l.lose(ErrClosed)
		l.b.call(func() { l.b.st.jm.dropWatcher(l.w) })
	})
}
