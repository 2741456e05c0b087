package hierarchy

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// RunRelay is an instance between the top and the leaves: it starts its own
// children, pulls lines from its parent as fast as they ask for them (never
// more), passes their results and started lines up, and runs here the lines
// too large for its children. It returns when the parent's stream has ended
// and every line it took has a result.
func RunRelay(own, parent *overlay.Client, name, service string, opt TreeOptions) (Stats, error) {
	st := Stats{Name: name, Level: opt.Level, Start: time.Now()}
	var res broker.ResourceReply
	if err := own.RPC(context.Background(), broker.TopicResources, nil, &res); err != nil {
		return st, fmt.Errorf("relay %s: %w", name, err)
	}
	st.Cores = res.All.Cores()
	demand := make(chan int, 1)
	started := make(chan []uint64, 64)
	tree, err := StartTree(own, opt)
	if err != nil {
		return st, fmt.Errorf("relay %s: %w", name, err)
	}
	tree.started = func(s []uint64) { started <- s }
	tree.feeder.in <- func() {
		tree.feeder.demand = func(n int) {
			select {
			case demand <- n:
			default: // a pull is asked for already; the next one asks again
			}
		}
		tree.feeder.ask()
	}
	up := newUpstream(parent, service, name)
	outstanding := 0 // lines taken from the parent without a result yet
	refused := make(chan []broker.JobResult, 16)
	var env []string
	closed := false
	for {
		up.push(nil)
		if up.eof && outstanding == 0 && up.idle() {
			if up.finished {
				return st, nil
			}
			if !closed {
				closed = true
				tree.Close() // the children have drained; wait for them to exit
			}
			kids, requeued, lost := tree.Stats()
			st.End, st.Requeued, st.Lost = time.Now(), requeued, lost
			st.Rate = float64(st.Lines) / st.End.Sub(st.Start).Seconds()
			up.push(append([]Stats{st}, kids...))
		}
		select {
		case n := <-demand:
			up.pull(n)
		case p := <-up.pulls:
			up.pulling = false
			if p.err != nil {
				tree.Cancel(nil)
				return st, fmt.Errorf("relay %s: the parent is gone: %w", name, p.err)
			}
			if p.reply.Env != nil {
				env = p.reply.Env
			}
			if jobs := captured(p.reply.Jobs); len(jobs) > 0 {
				outstanding += len(jobs)
				_ = tree.Submit(jobs, env, func(r broker.SubmitReply, _ error) {
					// Lines run here that the instance refused end now.
					var out []broker.JobResult
					for i, id := range r.IDs {
						if id == 0 {
							out = append(out, broker.JobResult{Cookie: jobs[i].Cookie, Outcome: broker.Failed(2, r.Errs[i])})
						}
					}
					refused <- out
				})
			}
			if p.reply.EOF {
				up.eof = true
				tree.End()
			} else {
				tree.feeder.in <- tree.feeder.ask // more may be wanted already
			}
		case out := <-refused:
			outstanding -= len(out)
			st.Lines += len(out)
			st.Failed += len(out)
			up.results = append(up.results, out...)
		case b := <-tree.Results():
			for _, r := range b.Results {
				outstanding--
				st.Lines++
				if r.Status != 0 || r.Err != "" {
					st.Failed++
				}
				up.results = append(up.results, r)
			}
		case s := <-started:
			up.started = append(up.started, s...)
		case err := <-tree.Lost():
			return st, fmt.Errorf("relay %s: lost its own instance: %w", name, err)
		case err := <-up.pushes:
			up.pushing = false
			if err != nil {
				tree.Cancel(nil)
				return st, fmt.Errorf("relay %s: the parent is gone: %w", name, err)
			}
		}
	}
}
