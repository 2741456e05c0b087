package hierarchy

import (
	"fmt"
	"syscall"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// feeder is the parent side of the line service: the queue of lines waiting
// for a child, the children with the lines each holds, and the asks that
// wait for lines. One goroutine (run) owns all of it; requests arrive as
// closures on in.
type feeder struct {
	svc    string
	client *overlay.Client
	in     chan func()
	out    chan<- event    // to the consumer: results and started lines
	stop   <-chan struct{} // the tree's: closed when it is done; every send here also watches it

	queue    []broker.Jobspec // lines no child holds yet, oldest first
	env      []string
	eof      bool // no more lines will be added
	canceled bool
	waiting  []*ask // asking syncs that found the queue empty
	children map[string]*child
	retries  int            // how often a line a lost child was running runs again (--retries)
	tries    map[uint64]int // line -> reruns so far; only lines that were rerun
	requeued int
	lostKids int
}

type ask struct {
	m       *overlay.Msg
	child   *child
	credits int
}

// child is one child instance as its parent sees it.
type child struct {
	name    string
	envSent bool                      // the environment goes with the first lines only
	held    map[uint64]broker.Jobspec // handed out, no result yet
	started map[uint64]bool
	gone    bool
	stats   []Stats
}

// event goes from the feeder to whoever consumes the tree's results.
type event struct {
	results []broker.JobResult
	started []uint64
}

func newFeeder(svc string, client *overlay.Client, out chan<- event) *feeder {
	return &feeder{svc: svc, client: client, in: make(chan func(), 4096), out: out, children: make(map[string]*child)}
}

// handle takes a request from the client's reader goroutine.
func (f *feeder) handle(m *overlay.Msg) {
	if m.Topic != f.svc+opSync {
		go f.client.Send(m.RespondError(syscall.ENOSYS, "no such operation: "+m.Topic))
		return
	}
	var req SyncRequest
	if err := m.Decode(&req); err != nil || req.Credits < 0 {
		go f.client.Send(m.RespondError(syscall.EPROTO, "sync: needs a child and credits >= 0"))
		return
	}
	f.do(func() { f.sync(m, &req) })
}

// do hands fn to the feeder's goroutine; false once the tree has stopped.
func (f *feeder) do(fn func()) bool {
	select {
	case f.in <- fn:
		return true
	case <-f.stop:
		return false
	}
}

func (f *feeder) run(stop <-chan struct{}) {
	for {
		select {
		case fn := <-f.in:
			fn()
		case <-stop:
			return
		}
	}
}

func (f *feeder) child(name string) *child {
	c := f.children[name]
	if c == nil {
		c = &child{name: name, held: make(map[uint64]broker.Jobspec), started: make(map[uint64]bool)}
		f.children[name] = c
	}
	return c
}

// sync takes a child's results and started lines, then answers it: at
// once without credits, else with lines as soon as there are any.
func (f *feeder) sync(m *overlay.Msg, req *SyncRequest) {
	c := f.child(req.Child)
	var ev event
	for _, seq := range req.Started {
		if _, ok := c.held[seq]; ok && !c.started[seq] {
			c.started[seq] = true
			ev.started = append(ev.started, seq)
		}
	}
	for _, r := range req.Results {
		if _, ok := c.held[r.Cookie]; !ok {
			continue // a line this child no longer holds (it was given to another)
		}
		delete(c.held, r.Cookie)
		delete(c.started, r.Cookie)
		ev.results = append(ev.results, r)
	}
	if len(req.Stats) > 0 {
		c.stats = req.Stats
	}
	f.emit(ev)
	switch {
	case c.gone:
		f.reply(m, &SyncReply{EOF: true})
	case req.Credits == 0:
		f.reply(m, &SyncReply{})
	default:
		if p := (&ask{m: m, child: c, credits: req.Credits}); !f.serve(p) {
			f.waiting = append(f.waiting, p)
		}
	}
}

// serve answers an ask from the queue, or with EOF; false when it must wait.
func (f *feeder) serve(p *ask) bool {
	if len(f.queue) == 0 {
		if f.eof || f.canceled {
			f.reply(p.m, &SyncReply{EOF: true})
			return true
		}
		return false
	}
	n := min(p.credits, len(f.queue))
	jobs := make([]broker.Jobspec, n)
	copy(jobs, f.queue[:n])
	f.queue = f.queue[n:]
	for _, j := range jobs {
		p.child.held[j.Cookie] = j
	}
	reply := &SyncReply{Jobs: jobs}
	if !p.child.envSent {
		reply.Env, p.child.envSent = f.env, true
	}
	f.reply(p.m, reply)
	return true
}

// serveWaiting answers the asks that can be answered now.
func (f *feeder) serveWaiting() {
	kept := f.waiting[:0]
	for _, p := range f.waiting {
		if p.child.gone {
			f.reply(p.m, &SyncReply{EOF: true})
			continue
		}
		if !f.serve(p) {
			kept = append(kept, p)
		}
	}
	f.waiting = kept
}

func (f *feeder) reply(m *overlay.Msg, body any) {
	resp, err := m.Respond(body)
	if err != nil {
		resp = m.RespondError(syscall.EPROTO, err.Error())
	}
	f.client.Send(resp)
}

func (f *feeder) emit(ev event) {
	if len(ev.results) > 0 || len(ev.started) > 0 {
		select {
		case f.out <- ev:
		case <-f.stop:
		}
	}
}

// add queues lines (the top's runner, or a relay's sync with its parent).
func (f *feeder) add(jobs []broker.Jobspec, env []string) {
	if env != nil {
		f.env = env
	}
	if f.canceled {
		f.emit(event{results: canceled(jobs)})
		return
	}
	f.queue = append(f.queue, jobs...)
	f.serveWaiting()
}

// end says no more lines will come.
func (f *feeder) end() {
	f.eof = true
	f.serveWaiting()
}

// childGone handles a child instance that ended. Lines it had started end
// as failed ("instance lost"); lines it had not started go back to the
// front of the queue for its siblings. A child that ended normally holds
// none.
func (f *feeder) childGone(name string, status int, why string) {
	c := f.child(name)
	if c.gone {
		return
	}
	c.gone = true
	if len(c.held) == 0 {
		f.serveWaiting()
		return
	}
	f.lostKids++
	var ev event
	var back []broker.Jobspec
	for seq, j := range c.held {
		switch {
		case f.canceled:
			ev.results = append(ev.results, canceled([]broker.Jobspec{j})...)
		case c.started[seq] && f.tries[seq] < f.retries:
			if f.tries == nil {
				f.tries = make(map[uint64]int)
			}
			f.tries[seq]++
			back = append(back, j)
		case c.started[seq]:
			ev.results = append(ev.results, broker.JobResult{Cookie: seq, Host: name,
				Outcome: broker.Failed(1, fmt.Sprintf("instance lost: child instance %s ended (%s) while running it", name, why))})
		default:
			back = append(back, j)
		}
	}
	c.held = map[uint64]broker.Jobspec{}
	f.requeued += len(back)
	f.queue = append(back, f.queue...)
	f.emit(ev)
	if f.alive() == 0 && len(f.queue) > 0 {
		// Nobody is left to take them.
		lost := f.queue
		f.queue = nil
		ev := event{}
		for _, j := range lost {
			ev.results = append(ev.results, broker.JobResult{Cookie: j.Cookie,
				Outcome: broker.Failed(1, "instance lost: no child instance is left to run it")})
		}
		f.emit(ev)
	}
	f.serveWaiting()
}

func (f *feeder) alive() int {
	n := 0
	for _, c := range f.children {
		if !c.gone {
			n++
		}
	}
	return n
}

// cancelAll ends every queued line as canceled; lines children hold end as
// canceled when the children go.
func (f *feeder) cancelAll() {
	f.canceled = true
	q := f.queue
	f.queue = nil
	f.emit(event{results: canceled(q)})
	f.serveWaiting()
}

func canceled(jobs []broker.Jobspec) []broker.JobResult {
	out := make([]broker.JobResult, len(jobs))
	for i, j := range jobs {
		out[i] = broker.JobResult{Cookie: j.Cookie, Outcome: broker.Killed(int(syscall.SIGTERM))}
	}
	return out
}

// held counts the lines children hold.
func (f *feeder) held() int {
	n := 0
	for _, c := range f.children {
		n += len(c.held)
	}
	return n
}
