package broker

import (
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
)

// The broker's state machine does not touch the outside world. Each event
// the loop hands it (a message, a launcher result, a timer with the time, a
// link) only changes its maps and appends effects: what to send, to whom,
// what to launch or kill, which timer to set. The loop performs them after
// each pass (shell.go), in order. So routing, lost ranks, rejoin and the
// PMI exchange run in unit tests as plain function calls whose effects are
// compared with a table: no sockets, processes or clocks (core_*_test.go).
//
// An effect is one flat struct rather than an interface: a pass appends
// thousands of them on a busy instance, into a slice that is reused, so
// they cost no allocation of their own.

// effectKind says what the shell does with an effect, and which of its
// fields it reads.
type effectKind uint8

const (
	fxSend         effectKind = iota + 1 // peer, msg, bulk: queue msg on a link (never blocks)
	fxReply                              // client, msg: queue msg for a client
	fxResult                             // client, req, result: one job result on a job.results stream
	fxStarted                            // client, req, cookie: a job of a job.results stream started
	fxOutput                             // client, req, line: a streamed output line for a job.results stream
	fxCloseClient                        // client: the client is forgotten; close its connection
	fxLocal                              // local, batch: a pass's batch for an in-process client (LocalJobs)
	fxLaunch                             // spec, part: start a part's tasks (part set: serve it PMI first)
	fxKill                               // job, sig: signal a part running here
	fxKillAll                            // every part running here: SIGTERM, SIGKILL after the grace
	fxTimer                              // after, timer, job: feed a timer event back after the delay
	fxServePeer                          // peer: read its streams into the loop
	fxCloseLink                          // peer, linger: close a link (linger: let it read a refusal first)
	fxPingLink                           // peer (old), peer2 (new): is the old link alive? (secondLink)
	fxDialParent                         // dial the parent again, to rejoin
	fxStartModule                        // module: start a module's process; moduleStarted says how it went
	fxSignal                             // pid, sig: signal a module's process group
	fxReady                              // the instance can take jobs (rank 0) or this broker joined it
	fxPMIReply                           // pmiDone, kvs, err: answer a part's PMI barrier
	fxStopInstance                       // stop the whole instance (a client's broker.stop)
)

// timerKind names what a timer effect feeds back.
type timerKind uint8

const (
	timerEscalate timerKind = iota + 1 // job: SIGKILL a canceled job still running after the grace
	timerDeadline                      // the end of the shutdown grace: forceStop
)

// effect is one thing the state machine asks of the shell. Only the fields
// its kind names are set.
type effect struct {
	kind   effectKind
	bulk   bool
	linger bool
	timer  timerKind
	sig    syscall.Signal
	peer   *peer
	peer2  *peer
	client *client
	msg    *overlay.Msg
	req    *overlay.Msg // the job.results request a result, start or line answers
	job    uint64
	cookie uint64
	pid    int
	after  time.Duration
	result *JobResult
	line   *OutputLine
	local  func(*ResultBatch)
	batch  *ResultBatch
	spec   *launcher.Spec
	part   *ExecPart
	module *moduleStart
	// PMI barrier answers.
	pmiDone func(map[string]string, error)
	kvs     map[string]string
	err     error
}

// moduleStart is what the shell needs to start a module's process, and
// what the state needs to answer module.load once it has.
type moduleStart struct {
	name, path string
	args, env  []string
	from       endpoint
	m          *overlay.Msg
}

// emit appends one effect.
func (st *state) emit(e effect) { st.fx = append(st.fx, e) }

// Helpers for the effects every part of the state emits.

func (st *state) send(p *peer, m *overlay.Msg, bulk bool) {
	st.emit(effect{kind: fxSend, peer: p, msg: m, bulk: bulk})
}

func (st *state) reply(c *client, m *overlay.Msg) {
	st.emit(effect{kind: fxReply, client: c, msg: m})
}

func (st *state) kill(job uint64, sig syscall.Signal) {
	st.emit(effect{kind: fxKill, job: job, sig: sig})
}

func (st *state) after(d time.Duration, t timerKind, job uint64) {
	st.emit(effect{kind: fxTimer, after: d, timer: t, job: job})
}

func (st *state) closeLink(p *peer) {
	st.emit(effect{kind: fxCloseLink, peer: p})
}

// ready says, once, that the instance can take jobs (or this broker joined it).
func (st *state) ready() {
	st.emit(effect{kind: fxReady})
}
