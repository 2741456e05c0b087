package hierarchy

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// upstream is a child's connection to its parent's line service: pulls
// (long-polls) and pushes run in the background, one of each at a time, and
// report back on channels the child's loop selects on.
type upstream struct {
	parent   *overlay.Client
	svc      string
	name     string
	pulls    chan pullResult
	pushes   chan error
	pulling  bool
	pushing  bool
	eof      bool
	results  []broker.JobResult // waiting to be pushed
	started  []uint64
	finished bool // the final push (with statistics) went out
}

type pullResult struct {
	reply PullReply
	err   error
}

func newUpstream(parent *overlay.Client, svc, name string) *upstream {
	return &upstream{parent: parent, svc: svc, name: name, pulls: make(chan pullResult, 1), pushes: make(chan error, 1)}
}

// pull asks for up to credits lines unless a pull is out or the stream ended.
func (u *upstream) pull(credits int) {
	if u.pulling || u.eof || credits <= 0 {
		return
	}
	u.pulling = true
	go func() {
		var r PullReply
		err := u.parent.RPC(context.Background(), u.svc+opPull, &PullRequest{Child: u.name, Credits: credits}, &r)
		u.pulls <- pullResult{r, err}
	}()
}

// push sends what waits, unless a push is out; stats go with the final one.
func (u *upstream) push(stats []Stats) {
	if u.pushing || (len(u.results) == 0 && len(u.started) == 0 && stats == nil) {
		return
	}
	req := &PushRequest{Child: u.name, Results: u.results, Started: u.started, Stats: stats}
	u.results, u.started = nil, nil
	u.pushing = true
	if stats != nil {
		u.finished = true
	}
	go func() { u.pushes <- u.parent.RPC(context.Background(), u.svc+opPush, req, nil) }()
}

func (u *upstream) idle() bool { return !u.pushing && len(u.results) == 0 && len(u.started) == 0 }

// LeafOptions describe a leaf instance.
type LeafOptions struct {
	Name    string
	Level   int
	Service string // the parent's line service
	Window  int    // lines in flight (default: twice the instance's cores)
}

// RunLeaf runs lines pulled from the parent as jobs of this instance (own)
// and pushes their results up, until the parent's stream ends and every
// line has its result.
func RunLeaf(own, parent *overlay.Client, opt LeafOptions) (Stats, error) {
	st := Stats{Name: opt.Name, Level: opt.Level, Leaf: true, Start: time.Now()}
	var res broker.ResourceReply
	if err := own.RPC(context.Background(), broker.TopicResources, nil, &res); err != nil {
		return st, fmt.Errorf("leaf %s: %w", opt.Name, err)
	}
	st.Cores = res.All.Cores()
	window := opt.Window
	if window <= 0 {
		window = max(4, 2*st.Cores)
	}
	exec, err := newJobRunner(own)
	if err != nil {
		return st, err
	}
	defer exec.close()
	up := newUpstream(parent, opt.Service, opt.Name)
	inflight := 0
	var env []string
	for {
		if free := window - inflight; free >= max(1, window/4) {
			up.pull(free)
		}
		up.push(nil)
		if up.eof && inflight == 0 && up.idle() {
			if up.finished {
				return st, nil
			}
			st.End = time.Now()
			st.Rate = float64(st.Lines) / st.End.Sub(st.Start).Seconds()
			up.push([]Stats{st})
		}
		select {
		case p := <-up.pulls:
			up.pulling = false
			if p.err != nil {
				return st, fmt.Errorf("leaf %s: the parent is gone: %w", opt.Name, p.err)
			}
			if p.reply.EOF {
				up.eof = true
			}
			if p.reply.Env != nil {
				env = p.reply.Env
			}
			if len(p.reply.Jobs) > 0 {
				inflight += len(p.reply.Jobs)
				exec.submit(captured(p.reply.Jobs), env)
			}
		case refused := <-exec.refused:
			inflight -= len(refused)
			up.results = append(up.results, refused...)
			st.Lines += len(refused)
			st.Failed += len(refused)
		case b := <-exec.be.Results():
			up.started = append(up.started, b.Started...)
			for _, r := range b.Results {
				inflight--
				st.Lines++
				if r.Status != 0 || r.Err != "" {
					st.Failed++
				}
				up.results = append(up.results, r)
			}
		case err := <-exec.be.Lost():
			return st, fmt.Errorf("leaf %s: lost its own instance: %w", opt.Name, err)
		case err := <-up.pushes:
			up.pushing = false
			if err != nil {
				return st, fmt.Errorf("leaf %s: the parent is gone: %w", opt.Name, err)
			}
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
