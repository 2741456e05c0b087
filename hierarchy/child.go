package hierarchy

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
)

// LeafOptions describe a leaf instance.
type LeafOptions struct {
	Name    string
	Level   int
	Service string // the parent's line service
	Window  int    // lines in flight; default: its cores and a stock (see stockTime)
	// Jobs is the instance's job service when the leaf runs inside its
	// broker's process (broker.LocalJobs, reporting started jobs); nil:
	// through own.
	Jobs capacitor.Backend
}

// RunLeaf runs lines pulled from the parent as jobs of this instance (own)
// and sends their results up, until the parent's stream ends and every
// line has its result.
func RunLeaf(own, parent *overlay.Client, opt LeafOptions) (Stats, error) {
	st := Stats{Name: opt.Name, Level: opt.Level, Leaf: true, Start: time.Now()}
	var res broker.ResourceReply
	if err := own.RPC(context.Background(), broker.TopicResources, nil, &res); err != nil {
		return st, fmt.Errorf("leaf %s: %w", opt.Name, err)
	}
	st.Cores = res.All.Cores()
	exec, err := newJobRunner(own, opt.Jobs)
	if err != nil {
		return st, err
	}
	defer exec.close()
	up := newUpstream(parent, opt.Service, opt.Name)
	inflight := 0
	var env []string
	var ends meter // lines ending here, for the stock to keep
	// The cores of each line in flight that holds more than one, by
	// cookie, to add up the core-seconds the leaf's lines ran
	// (st.BusyCoreSeconds, which gives flux report the leaf's
	// utilisation). Bounded by the window; single-core lines, the usual
	// case, cost no entry.
	cores := make(map[uint64]int)
	for {
		// Lines in flight: one per core, and a stock worth stockTime,
		// asked for in batches of half of it.
		stock := ends.stock(time.Now(), 1, 4*st.Cores)
		window, refill := st.Cores+stock, max(1, stock/2)
		if opt.Window > 0 {
			window, refill = opt.Window, max(1, opt.Window/4)
		}
		drained := up.eof && inflight == 0
		if drained && !up.busy() {
			if up.finished {
				return st, nil
			}
			st.End = time.Now()
			st.Rate = float64(st.Lines) / st.End.Sub(st.Start).Seconds()
			st.Syncs = up.syncs + 1
			up.finish([]Stats{st})
			continue
		}
		up.flush(window-inflight, refill, drained)
		select {
		case r := <-up.replies:
			if r.err != nil {
				return st, up.failed("leaf "+opt.Name, r.err)
			}
			reply := up.got(r)
			if reply.Env != nil {
				env = reply.Env
			}
			if len(reply.Jobs) > 0 {
				for _, j := range reply.Jobs {
					if c := res.All.WholeNodes(j.Req.Normalize()).Cores(); c != 1 {
						cores[j.Cookie] = c
					}
				}
				inflight += len(reply.Jobs)
				exec.submit(captured(reply.Jobs), env)
			}
		case refused := <-exec.refused:
			inflight -= len(refused)
			for _, r := range refused {
				delete(cores, r.Cookie)
			}
			st.Lines += len(refused)
			st.Failed += len(refused)
			up.add(refused, nil)
		case b := <-exec.be.Results():
			ends.add(len(b.Results), time.Now())
			for _, r := range b.Results {
				inflight--
				st.Lines++
				c := 1
				if len(cores) > 0 {
					if n, ok := cores[r.Cookie]; ok {
						c = n
						delete(cores, r.Cookie)
					}
				}
				if r.End.After(r.Start) {
					st.BusyCoreSeconds += float64(c) * r.End.Sub(r.Start).Seconds()
				}
				if r.Status != 0 || r.Err != "" {
					st.Failed++
				}
			}
			up.add(b.Results, b.Started)
		case err := <-exec.be.Lost():
			return st, fmt.Errorf("leaf %s: lost its own instance: %w", opt.Name, err)
		case <-up.due:
		}
	}
}

// captured turns off --line-buffer streaming for lines run below the top:
// only results travel up the tree, so their output must be captured and
// travel with them (grouped per task).
func captured(jobs []broker.Jobspec) []broker.Jobspec {
	for i := range jobs {
		jobs[i].Stream = false
	}
	return jobs
}
