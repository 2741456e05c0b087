package hierarchy

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// RunRelay is an instance between the top and the leaves: it starts its own
// children, keeps a stock of lines from its parent for them (see
// stockTime), passes their
// results and started lines up, and runs here the lines too large for its
// children. It returns when the parent's stream has ended and every line it
// took has a result.
func RunRelay(own, parent *overlay.Client, name, service string, opt TreeOptions) (Stats, error) {
	st := Stats{Name: name, Level: opt.Level, Start: time.Now()}
	var res broker.ResourceReply
	if err := own.RPC(context.Background(), broker.TopicResources, nil, &res); err != nil {
		return st, fmt.Errorf("relay %s: %w", name, err)
	}
	st.Cores = res.All.Cores()
	started := make(chan []uint64, 64)
	tree, err := StartTree(own, opt)
	if err != nil {
		return st, fmt.Errorf("relay %s: %w", name, err)
	}
	// Goroutines that hand this loop news give up once it has returned.
	quit := make(chan struct{})
	defer close(quit)
	tree.started = func(s []uint64) {
		select {
		case started <- s:
		case <-quit:
		}
	}
	up := newUpstream(parent, service, name)
	outstanding := 0 // lines taken from the parent without a result yet
	refused := make(chan []broker.JobResult, 16)
	var env []string
	closed := false
	var ends meter // lines ending below, for the stock to keep
	kids := opt.Config.Levels[opt.Level-1].NumChildren
	for {
		// The children hold lines for their cores and their stocks (about
		// this relay's rate times stockTime between them); the relay keeps
		// as much again, so a child that asks is served at once. At least
		// a line per child, at most four per core.
		stock := ends.stock(time.Now(), kids, 4*st.Cores)
		window, refill := st.Cores+2*stock, max(1, stock/2)
		drained := up.eof && outstanding == 0
		if drained && !up.busy() {
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
			st.Syncs = up.syncs + 1
			up.finish(append([]Stats{st}, kids...))
			continue
		}
		up.flush(window-outstanding, refill, drained)
		select {
		case r := <-up.replies:
			if r.err != nil {
				tree.Cancel(nil)
				return st, up.failed("relay "+name, r.err)
			}
			reply := up.got(r)
			if reply.Env != nil {
				env = reply.Env
			}
			if jobs := captured(reply.Jobs); len(jobs) > 0 {
				outstanding += len(jobs)
				_ = tree.Submit(jobs, env, func(r broker.SubmitReply, _ error) {
					// Lines run here that the instance refused end now.
					var out []broker.JobResult
					for i, id := range r.IDs {
						if id == 0 {
							out = append(out, broker.JobResult{Cookie: jobs[i].Cookie, Outcome: broker.Failed(2, r.Errs[i])})
						}
					}
					select {
					case refused <- out:
					case <-quit:
					}
				})
			}
			if reply.EOF {
				tree.End()
			}
		case out := <-refused:
			outstanding -= len(out)
			st.Lines += len(out)
			st.Failed += len(out)
			up.add(out, nil)
		case b := <-tree.Results():
			ends.add(len(b.Results), time.Now())
			for _, r := range b.Results {
				outstanding--
				st.Lines++
				if r.Status != 0 || r.Err != "" {
					st.Failed++
				}
			}
			up.add(b.Results, nil)
		case s := <-started:
			up.add(nil, s)
		case err := <-tree.Lost():
			return st, fmt.Errorf("relay %s: lost its own instance: %w", name, err)
		case <-up.due:
		}
	}
}
