package broker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/pmi"
)

// The loop is the shell around the state machine (state.go, effects.go):
// it takes events from the channels, stamps each with the time, hands it
// to the state, and after each pass performs the effects the pass asked
// for. It is the only code of the loop goroutine that touches a socket, a
// process, a timer or the clock.

// loop is the one goroutine that owns broker state. Each wake-up drains
// whatever is queued before it schedules once and sends what the pass
// produced, so a burst of finished tasks costs one scheduling pass and one
// message per peer, not one each.
func (b *Broker) loop() {
	defer close(b.stopped)
	st := b.st
	quit := b.quit
	for {
		select {
		case r := <-b.reqs:
			st.now = time.Now()
			st.handle(r)
		case res := <-b.done:
			b.finished(res)
		case l := <-b.lines:
			st.now = time.Now()
			st.exec.line(l)
		case id := <-b.kills:
			st.now = time.Now()
			st.escalate(id)
		case le := <-b.links:
			st.now = time.Now()
			st.link(le)
		case me := <-b.exited:
			st.now = time.Now()
			st.moduleExited(me)
		case fn := <-b.calls:
			st.now = time.Now()
			fn()
		case <-quit:
			quit = nil // switch this case off; drain from now on
			st.now = time.Now()
			st.beginShutdown()
		case <-b.deadline:
			b.deadline = nil
			st.now = time.Now()
			st.forceStop()
		}
		b.drain(st)
		if st.stopping && st.idle() {
			st.endOfPass()
			st.finish()
			b.perform()
			b.closeAll()
			return
		}
		if st.jm != nil && !st.stopping {
			st.now = time.Now()
			st.jm.schedule()
		}
		st.endOfPass()
		b.perform()
	}
}

// drain handles what is already queued without blocking.
func (b *Broker) drain(st *state) {
	for i := 0; i < 4096; i++ {
		select {
		case l := <-b.lines:
			st.now = time.Now()
			st.exec.line(l)
		case res := <-b.done:
			b.finished(res)
		case r := <-b.reqs:
			st.now = time.Now()
			st.handle(r)
		default:
			return
		}
	}
}

// finished hands the state a part the launcher reports ended: after the
// part's streamed lines still queued, so that its output always precedes
// its result, and once its PMI server and directory are gone.
func (b *Broker) finished(res *launcher.Result) {
	st := b.st
	st.now = time.Now()
	for drained := false; !drained; {
		select {
		case l := <-b.lines:
			st.exec.line(l)
		default:
			drained = true
		}
	}
	if srv := b.pmiServers[res.JobID]; srv != nil {
		srv.Close()
		delete(b.pmiServers, res.JobID)
	}
	b.dropTmp(res.JobID)
	st.launched(res)
}

// perform does what the pass asked, in order. An effect may feed news back
// to the state at once (a module's process started), whose effects then
// come after the rest.
func (b *Broker) perform() {
	st := b.st
	for i := 0; i < len(st.fx); i++ {
		b.do(st.fx[i])
	}
	clear(st.fx) // let go of the messages and results; keep the room
	st.fx = st.fx[:0]
}

func (b *Broker) do(e effect) {
	switch e.kind {
	case fxSend:
		e.peer.send(e.msg, e.bulk)
	case fxReply:
		e.client.reply(e.msg)
	case fxResult:
		e.client.deliverResult(e.req, e.result)
	case fxStarted:
		e.client.started(e.req, e.cookie)
	case fxOutput:
		e.client.output(e.req, *e.line)
	case fxCloseClient:
		e.client.close()
		b.forget(e.client)
	case fxLocal:
		e.local(e.batch)
	case fxLaunch:
		b.launch(e)
	case fxKill:
		b.launcher.Kill(e.job, e.sig)
	case fxKillAll:
		l, grace := b.launcher, b.cfg.KillGrace
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), grace+time.Second)
			defer cancel()
			l.Shutdown(ctx)
		}()
	case fxTimer:
		b.setTimer(e)
	case fxServePeer:
		b.servePeer(e.peer)
	case fxCloseLink:
		b.closeLink(e.peer, e.linger)
	case fxPingLink:
		old, p, st := e.peer, e.peer2, b.st
		go func() {
			_, err := old.link.Ping()
			if !b.call(func() { st.secondLink(old, p, err) }) {
				p.link.Close()
			}
		}()
	case fxDialParent:
		go b.dialParent(b.cfg.Links, b.linkCfg)
	case fxStartModule:
		pid, err := b.startModule(e.module)
		b.st.mods.started(e.module, pid, err)
	case fxSignal:
		syscall.Kill(-e.pid, e.sig)
	case fxReady:
		if !b.readyShut {
			b.readyShut = true
			close(b.ready)
		}
	case fxPMIReply:
		e.pmiDone(e.kvs, e.err)
	case fxStopInstance:
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.KillGrace+10*time.Second)
			defer cancel()
			b.Shutdown(ctx)
		}()
	default:
		panic(fmt.Sprintf("broker: effect of unknown kind %d", e.kind))
	}
}

// setTimer feeds a timer's event back to the loop after its delay.
func (b *Broker) setTimer(e effect) {
	switch e.timer {
	case timerDeadline:
		b.deadline = time.After(e.after)
	case timerEscalate:
		id, kills, stopped := e.job, b.kills, b.stopped
		time.AfterFunc(e.after, func() {
			select {
			case kills <- id:
			case <-stopped:
			}
		})
	}
}

// closeLink closes a peer's link off the loop: Close waits up to 2 s for a
// flush. A refused link (linger) first gets refuseLinger for its broker to
// read why and hang up.
func (b *Broker) closeLink(p *peer, linger bool) {
	if !linger {
		go p.link.Close()
		return
	}
	go func() {
		t := time.NewTimer(refuseLinger)
		defer t.Stop()
		select {
		case <-p.link.Done():
		case <-t.C:
		}
		p.link.Close() // flushes the refusal first
	}()
}

// closeAll is the loop's very last act: clients get what is queued for
// them, the listener closes, and every link closes after flushing what is
// queued on it (broker.shutdown to the children). Closing is bounded: a
// peer that stopped reading gets 2 s.
func (b *Broker) closeAll() {
	b.clientsMu.Lock()
	for c := range b.clients {
		c.flush()
	}
	b.clientsMu.Unlock()
	if b.listener != nil {
		b.listener.Close()
	}
	var wg sync.WaitGroup
	for _, p := range b.st.links() {
		wg.Add(1)
		go func() { defer wg.Done(); p.link.Close() }()
	}
	wg.Wait()
}

// launch starts a part's tasks: with a PMI server and an OpenMPI directory
// of its own when the part has PMI (e.part set), and its streamed lines fed
// to the loop.
func (b *Broker) launch(e effect) {
	spec := e.spec
	if e.part != nil {
		if tmp := b.partTmp(e.job); tmp != nil {
			spec.Env = mergeEnv(spec.Env, tmp)
		}
		if err := b.servePMI(e.part, spec); err != nil {
			b.cfg.Logf("broker: job %d: cannot serve PMI: %v", e.job, err)
		}
	}
	if spec.Output == launcher.Stream {
		id, cookie, lines, stopped := e.job, e.cookie, b.lines, b.stopped
		spec.OnLine = func(task int, stderr bool, line []byte) {
			select {
			case lines <- OutputLine{ID: id, Cookie: cookie, Task: task, Stderr: stderr, Data: line}:
			case <-stopped:
			}
		}
	}
	b.launcher.Launch(spec, b.onDone)
}

func (b *Broker) onDone(res *launcher.Result) {
	select {
	case b.done <- res:
	case <-b.stopped:
	}
}

// servePMI gives every task of the part a PMI-1 connection (PMI_FD=3) to a
// server of its own. Barriers go to the loop's PMI exchange (pmireduce.go),
// abort ends the whole job; both wait for the loop only while it runs.
func (b *Broker) servePMI(p *ExecPart, spec *launcher.Spec) error {
	job, rank, st := p.Job, b.cfg.Rank, b.st
	ranks := make([]int, len(p.Tasks))
	for i, t := range p.Tasks {
		ranks[i] = t.Rank
	}
	cfg := pmi.ServerConfig{
		KVSName: fmt.Sprintf("flux-%d", job), Size: p.JobSize, Ranks: ranks, Mapping: p.Mapping, Logf: b.cfg.Logf,
		Abort: func(task, code int, msg string) {
			b.call(func() { st.abort(&ExecAbort{Job: job, Rank: task, Code: code, Msg: msg}) })
		},
	}
	if p.PMIRanks != nil && p.PMIRanks.Count() > 1 { // else every task is here: barriers need no exchange
		jobRanks := *p.PMIRanks
		cfg.Exchange = func(epoch int, puts map[string]string, done func(map[string]string, error)) {
			ex := &PMIExchange{Job: job, Epoch: epoch, Rank: rank, Ranks: jobRanks, Puts: puts}
			if !b.call(func() { st.pmiExchange(ex, done) }) {
				done(nil, ErrShutdown)
			}
		}
	}
	srv, err := pmi.NewServer(cfg)
	if err != nil {
		return err
	}
	for i := range spec.Tasks {
		f, err := srv.TaskFile(i)
		if err != nil {
			srv.Close()
			return err
		}
		spec.Tasks[i].Files = []*os.File{f}
		spec.Tasks[i].Env = srv.TaskEnv(i, 3)
	}
	b.pmiServers[job] = srv
	return nil
}

// startModule starts a module's process, in a process group of its own
// that dies with the broker, and reports its exit to the loop.
func (b *Broker) startModule(s *moduleStart) (int, error) {
	cmd := exec.Command(s.path, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	name, pid := s.name, cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		select {
		case b.exited <- moduleExit{name: name, pid: pid, err: err}:
		case <-b.stopped: // the loop is gone; nobody needs the news
		}
	}()
	return pid, nil
}
