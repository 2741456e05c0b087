package hierarchy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

// TreeOptions say how an instance starts its children.
type TreeOptions struct {
	Config   Config
	Level    int      // this instance's level: 1 at the top
	Name     string   // this instance's name in the tree: "top", its children "top.0", "top.1", ...
	Self     string   // the flux executable
	Env      []string // the children's environment
	Simulate time.Duration
	Retries  int // a line a lost child was running runs again this many times before it fails
	Logf     func(format string, args ...any)
}

// Tree is an instance's view of its children: it starts them as jobs of
// the instance (flux start ... flux hierarchy --child), serves them lines
// through a feeder, and runs lines too large for a child itself. It is a
// capacitor.Backend, so the top level reuses the capacitor's input, job
// log, resume and reporting as they are.
type Tree struct {
	opt      TreeOptions
	client   *overlay.Client
	svc      string
	feeder   *feeder
	local    capacitor.Backend // lines too large for a child run here
	events   chan event
	results  chan *broker.ResultBatch
	lost     chan error
	stop     chan struct{}
	kids     *overlay.Stream
	kidJobs  map[uint64]string // child job id -> child name
	kidsDone chan struct{}     // closed when every child job has ended
	started  func([]uint64)    // relays pass started lines up; nil at the top
	childReq resources.Request
	once     sync.Once
	final    struct { // the children's statistics, taken by Close
		kids           []Stats
		requeued, lost int
	}
}

var treeSeq int

// StartTree registers this instance's line service and starts its children.
func StartTree(client *overlay.Client, opt TreeOptions) (*Tree, error) {
	c := opt.Config
	if opt.Name == "" {
		opt.Name = "top"
	}
	if opt.Level < 1 || opt.Level >= c.NumLevels {
		return nil, fmt.Errorf("level %d of %d has no children", opt.Level, c.NumLevels)
	}
	treeSeq++
	t := &Tree{
		opt: opt, client: client, svc: fmt.Sprintf("hier-%d-%d", os.Getpid(), treeSeq),
		events: make(chan event, 64), results: make(chan *broker.ResultBatch, 64), lost: make(chan error, 1),
		stop: make(chan struct{}), kidJobs: make(map[uint64]string), kidsDone: make(chan struct{}),
		childReq: c.ChildRequest(opt.Level),
	}
	t.feeder = newFeeder(t.svc, client, t.events)
	t.feeder.retries = opt.Retries
	client.OnRequest(t.feeder.handle)
	if err := client.RPC(context.Background(), broker.TopicServiceAdd,
		&broker.ServiceAdd{Names: []string{t.svc}, Pid: os.Getpid()}, nil); err != nil {
		return nil, fmt.Errorf("registering the line service: %w", err)
	}
	// Set before any child exists, so before any request reaches the feeder.
	t.feeder.stop = t.stop
	go t.feeder.run(t.stop)
	local, err := capacitor.NewInstanceBackend(client)
	if err != nil {
		return nil, err
	}
	t.local = local
	if err := t.startChildren(); err != nil {
		local.Close()
		return nil, err
	}
	go t.forward()
	return t, nil
}

// startChildren submits one job per child: a flux start running this
// command one level down, with the cores the config gives a child.
func (t *Tree) startChildren() error {
	s, watcher, err := broker.WatchResults(t.client)
	if err != nil {
		return err
	}
	t.kids = s
	lv := t.opt.Config.Levels[t.opt.Level-1]
	cfgJSON, _ := json.Marshal(t.opt.Config)
	jobs := make([]broker.Jobspec, lv.NumChildren)
	names := make([]string, lv.NumChildren)
	for i := range jobs {
		names[i] = fmt.Sprintf("%s.%d", t.opt.Name, i)
		t.feeder.do(func(n string) func() { return func() { t.feeder.child(n) } }(names[i]))
		argv := []string{t.opt.Self, "start"}
		if lv.Sched != "" {
			argv = append(argv, "--sched", lv.Sched)
		}
		if t.opt.Simulate > 0 {
			// Simulated cores: the child gets as many as the config gives it,
			// unbound (their ids need not exist here); leaves simulate tasks.
			argv = append(argv, "-Sresource.cores="+strconv.Itoa(t.childReq.Cores()), "-Sexec.bind=false")
			if t.opt.Level+1 == t.opt.Config.NumLevels {
				argv = append(argv, "-Sexec.test.run_duration="+t.opt.Simulate.String())
			}
		}
		argv = append(argv, t.opt.Self, "hierarchy", "--child", names[i], "--parent-service", t.svc,
			"--level", strconv.Itoa(t.opt.Level+1), "--config-json", string(cfgJSON))
		if t.opt.Simulate > 0 {
			argv = append(argv, "--simulate", t.opt.Simulate.String())
		}
		if t.opt.Retries > 0 {
			argv = append(argv, "--retries", strconv.Itoa(t.opt.Retries))
		}
		jobs[i] = broker.Jobspec{Req: t.childReq, Argv: argv, Name: names[i], Cookie: uint64(i + 1)}
		if t.opt.Simulate > 0 {
			// A simulated child runs no task: its Go work is two loops, and
			// a second P would only turn goroutine hand-offs into thread
			// wake-ups, which 64 such processes on a few real cores pay
			// dearly. Set before its runtime starts (changing it later
			// stops the world). And it collects garbage a quarter as often
			// (a heap of at most ~16 MB): 64 leaves progressing in step
			// otherwise collect at the same moments, and the machine
			// measuring the tree stalls. A real child keeps Go's defaults:
			// the cores it is bound to, and GOGC=100.
			jobs[i].Env = []string{"GOMAXPROCS=1", "GOGC=400"}
		}
	}
	var reply broker.SubmitReply
	err = t.client.RPC(context.Background(), broker.TopicSubmit,
		&broker.SubmitRequest{Env: t.opt.Env, Jobs: jobs, Watcher: watcher}, &reply)
	if err != nil {
		return fmt.Errorf("starting the child instances: %w", err)
	}
	for i, id := range reply.IDs {
		if id == 0 {
			return fmt.Errorf("starting child instance %s: %s", names[i], reply.Errs[i])
		}
		t.kidJobs[id] = names[i]
	}
	go t.watchChildren(s, len(jobs))
	return nil
}

// watchChildren learns when child instances end.
func (t *Tree) watchChildren(s *overlay.Stream, n int) {
	defer close(t.kidsDone)
	for n > 0 {
		m, err := s.Recv()
		if err != nil {
			return
		}
		var b broker.ResultBatch
		if m.Decode(&b) != nil {
			continue
		}
		for _, r := range b.Results {
			name := t.kidJobs[r.ID]
			if name == "" {
				continue
			}
			n--
			why := "exit status " + strconv.Itoa(r.Status)
			if r.Signal != 0 {
				why = "killed by signal " + strconv.Itoa(r.Signal)
			}
			if r.Err != "" {
				why = r.Err
			}
			if r.Status != 0 {
				t.logf("hierarchy: child instance %s ended: %s", name, why)
			}
			status := r.Status
			t.feeder.do(func() { t.feeder.childGone(name, status, why) })
		}
	}
}

// forward merges the children's results and the local ones into Results.
func (t *Tree) forward() {
	local := t.local.Results()
	for {
		select {
		case ev := <-t.events:
			if len(ev.started) > 0 && t.started != nil {
				t.started(ev.started)
			}
			if len(ev.results) > 0 && !t.emit(&broker.ResultBatch{Results: ev.results}) {
				return
			}
		case b := <-local:
			if !t.emit(b) {
				return
			}
		case err := <-t.local.Lost():
			t.lost <- err // buffered for this one error
			return
		case <-t.stop:
			return
		}
	}
}

// emit hands a batch to the consumer; false once the tree has stopped.
func (t *Tree) emit(b *broker.ResultBatch) bool {
	select {
	case t.results <- b:
		return true
	case <-t.stop:
		return false
	}
}

// fits reports whether a line can run in one child.
func (t *Tree) fits(r resources.Request) bool {
	c := t.childReq
	if c.Nodes > 0 {
		return r.Nodes <= c.Nodes
	}
	return r.Nodes <= 1 && r.Cores() <= c.CoresPerTask && r.GPUsPerTask*r.Tasks <= c.GPUsPerTask
}

// Submit queues lines for the children, and runs here what is too large
// for one of them (at the lowest level that can hold it).
func (t *Tree) Submit(jobs []broker.Jobspec, env []string, done func(broker.SubmitReply, error)) error {
	var down, here []broker.Jobspec
	var hereAt []int
	reply := broker.SubmitReply{IDs: make([]uint64, len(jobs)), Errs: make([]string, len(jobs))}
	for i, j := range jobs {
		if t.fits(j.Req.Normalize()) {
			down = append(down, j)
			reply.IDs[i] = j.Cookie
		} else {
			here = append(here, j)
			hereAt = append(hereAt, i)
		}
	}
	if len(down) > 0 {
		t.feeder.do(func() { t.feeder.add(down, env) })
	}
	if len(here) == 0 {
		done(reply, nil)
		return nil
	}
	return t.local.Submit(here, env, func(r broker.SubmitReply, err error) {
		for k, i := range hereAt {
			switch {
			case err != nil:
				reply.Errs[i] = err.Error()
			case k < len(r.IDs):
				reply.IDs[i], reply.Errs[i] = r.IDs[k], r.Errs[k]
			}
		}
		done(reply, nil)
	})
}

func (t *Tree) Results() <-chan *broker.ResultBatch { return t.results }
func (t *Tree) Lost() <-chan error                  { return t.lost }

// Cancel tears the subtree down: queued lines end canceled, every child
// instance is canceled (its flux start kills what it runs), and local jobs
// are killed.
func (t *Tree) Cancel(ids []uint64) {
	t.feeder.do(t.feeder.cancelAll)
	var kids []uint64
	for id := range t.kidJobs {
		kids = append(kids, id)
	}
	_ = t.client.Go(broker.TopicCancel, &broker.CancelRequest{IDs: kids}, func(*overlay.Msg, error) {})
	t.local.Cancel(ids)
}

// End says no more lines will be submitted; children drain and exit.
func (t *Tree) End() { t.feeder.do(t.feeder.end) }

// EndOfInput is End, for the capacitor's runner.
func (t *Tree) EndOfInput() { t.End() }

// Close ends the stream, waits (a bounded time) for the children to exit,
// and releases everything.
func (t *Tree) Close() {
	t.once.Do(func() {
		t.End()
		select {
		case <-t.kidsDone:
		case <-time.After(30 * time.Second):
			t.logf("hierarchy: child instances did not exit 30 s after the end of the input; canceling them")
			t.Cancel(nil)
			select {
			case <-t.kidsDone:
			case <-time.After(15 * time.Second):
			}
		}
		done := make(chan struct{})
		if t.feeder.do(func() {
			for _, c := range t.feeder.children {
				t.final.kids = append(t.final.kids, c.stats...)
			}
			t.final.requeued, t.final.lost = t.feeder.requeued, t.feeder.lostKids
			close(done)
		}) {
			<-done
		}
		close(t.stop)
		t.kids.Close()
		t.local.Close()
	})
}

// Stats is what the children reported, and how many lines went back to the
// queue from lost children; valid after Close.
func (t *Tree) Stats() (kids []Stats, requeued, lost int) {
	return t.final.kids, t.final.requeued, t.final.lost
}

func (t *Tree) logf(format string, args ...any) {
	if t.opt.Logf != nil {
		t.opt.Logf(format, args...)
	}
}
