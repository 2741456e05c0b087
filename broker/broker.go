package broker

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/pmi"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// Config is validated once, by New.
type Config struct {
	// Resources are this broker's own resources. A broker alone (Size 1)
	// runs an instance of exactly these; in a larger instance each rank
	// reports its own to rank 0, whose scheduler sees them all.
	Resources    resources.Set
	Rank, Size   int        // this broker's rank and the number of brokers (default 0 and 1)
	Fanout       int        // the tree's fanout (default 32, as in Flux)
	Links        *LinkSetup // required when Size > 1
	URI          string     // this broker's local socket, handed to modules as FLUX_URI
	Sched        sched.Options
	KillGrace    time.Duration // SIGTERM -> SIGKILL delay for cancel and time limits (default 5s)
	History      int           // finished jobs kept for flux jobs -a and attach (default 1000)
	HistoryBytes int           // captured output kept for attach, over all history (default 64 MiB)
	OutputLimit  int           // per task and stream, captured in memory (default 4 MiB; launcher.Options)
	Simulate     time.Duration // > 0: tasks do not run, they end after this long (exec.test.run_duration)
	NoBind       bool          // do not bind tasks to cores (simulated cores)
	Logf         func(format string, args ...any)
}

// LinkSetup says how a broker joins the tree.
type LinkSetup struct {
	Link        overlay.LinkConfig // key, session, encryption, heartbeat
	Listen      string             // "host:port" to accept children on; "" when it has none
	Listener    net.Listener       // or a listener bound already (PMI boot publishes its port first)
	Parent      string             // the parent's "host:port" (rank > 0)
	DialTimeout time.Duration      // how long to keep trying to reach the parent (default 60s)
	OnListen    func(addr string)  // called with the bound address (tests listen on :0)
}

// Broker is one broker of an instance.
type Broker struct {
	cfg      Config
	host     string
	ring     *logRing  // the last log lines, for flux dmesg
	start    time.Time // for flux uptime
	launcher *launcher.Launcher

	reqs    chan request          // clients and peers -> loop; bounded: a flood blocks its reader
	done    chan *launcher.Result // launcher -> loop
	lines   chan OutputLine       // streamed output, launcher -> loop
	kills   chan uint64           // cancel escalation timers -> loop
	links   chan linkEvent        // link goroutines -> loop
	exited  chan moduleExit       // module processes -> loop
	calls   chan func()           // work other goroutines hand the loop (PMI servers, LocalJobs)
	quit    chan struct{}         // closed by Shutdown
	once    sync.Once
	stopped chan struct{} // closed when the loop has ended
	ready   chan struct{} // closed when the instance can take jobs (rank 0) or joined it (others)

	// The shell's own, owned by the loop goroutine like st (shell.go).
	deadline   <-chan time.Time       // the end of the shutdown grace, once stopping
	readyShut  bool                   // ready is closed
	pmiServers map[uint64]*pmi.Server // PMI servers of the parts running here, by job
	tmpdirs    map[uint64]string      // job id -> its part's OpenMPI directory here (pmitmp.go)

	clientsMu sync.Mutex
	clients   map[*client]struct{} // guarded by clientsMu; the loop does not need it

	listener *overlay.LinkListener
	linkCfg  overlay.LinkConfig // for dialing the parent again (rejoin); set before the loop starts

	st *state // owned by the loop goroutine
}

// request is one message for the loop, or news that its sender went away.
type request struct {
	from endpoint
	m    *overlay.Msg
	bulk bool // arrived on a peer's bulk stream
	gone bool
}

// Sentinel errors callers can branch on.
var (
	ErrShutdown = errors.New("the instance is shutting down")
)

// New validates cfg, starts the broker's loop (and, in a larger instance,
// its links) and returns.
func New(cfg Config) (*Broker, error) {
	if len(cfg.Resources.Ranks) == 0 {
		return nil, errors.New("broker: the resource set is empty")
	}
	if cfg.Size <= 0 {
		cfg.Size = 1
	}
	if cfg.Rank < 0 || cfg.Rank >= cfg.Size {
		return nil, fmt.Errorf("broker: rank %d is outside an instance of size %d", cfg.Rank, cfg.Size)
	}
	if cfg.Fanout <= 0 {
		cfg.Fanout = 32
	}
	if cfg.Size > 1 && cfg.Links == nil {
		return nil, errors.New("broker: an instance of several brokers needs link settings")
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 5 * time.Second
	}
	if cfg.History <= 0 {
		cfg.History = 1000
	}
	if cfg.HistoryBytes <= 0 {
		cfg.HistoryBytes = 64 << 20
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	ring := newLogRing()
	cfg.Logf = withRing(ring, cfg.Rank, cfg.Logf)
	if cfg.Size > 1 {
		// This broker's own resources, under its rank.
		own := cfg.Resources.Ranks[0]
		own.Rank = cfg.Rank
		cfg.Resources = resources.Set{Ranks: []resources.Rank{own}}
	}
	host := cfg.Resources.Ranks[0].Host
	if host == "" {
		host, _ = os.Hostname()
		host, _, _ = strings.Cut(host, ".")
	}
	b := &Broker{
		cfg:   cfg,
		host:  host,
		ring:  ring,
		start: time.Now(),
		launcher: launcher.New(launcher.Options{KillGrace: cfg.KillGrace, OutputLimit: cfg.OutputLimit,
			Simulate: cfg.Simulate, NoBind: cfg.NoBind}),
		reqs:    make(chan request, 1024),
		done:    make(chan *launcher.Result, 4096),
		lines:   make(chan OutputLine, 4096),
		kills:   make(chan uint64, 64),
		links:   make(chan linkEvent, 64),
		exited:  make(chan moduleExit, 16),
		calls:   make(chan func(), 256),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		ready:   make(chan struct{}),
		clients: make(map[*client]struct{}),

		pmiServers: make(map[uint64]*pmi.Server),
		tmpdirs:    make(map[uint64]string),
	}
	st, err := newState(&b.cfg, ring, host, b.start)
	if err != nil {
		return nil, err
	}
	b.st = st
	b.perform() // what starting asked for (a broker alone is ready at once); the loop does not run yet
	policy := cfg.Sched.Policy
	if policy == "" {
		policy = "default"
	}
	ring.note(cfg.Rank, "broker: rank %d of %d started on %s (pid %d, fanout %d, scheduler %s)", cfg.Rank, cfg.Size, host,
		os.Getpid(), cfg.Fanout, policy)
	if cfg.Size > 1 {
		if err := b.startLinks(); err != nil {
			return nil, err
		}
	}
	go b.loop()
	return b, nil
}

// Serve attaches a client connection; it returns at once. The connection is
// closed when the client goes away or the broker stops.
func (b *Broker) Serve(conn overlay.Conn) {
	c := newClient(b, conn)
	b.clientsMu.Lock()
	b.clients[c] = struct{}{}
	b.clientsMu.Unlock()
	go c.outbox()
	go c.reader()
}

// ServeListener accepts connections until the listener is closed.
func (b *Broker) ServeListener(l *overlay.Listener) {
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			b.Serve(conn)
		}
	}()
}

// Connect returns an in-process client connection to the broker (what the
// capacitor uses when it boots its own instance).
func (b *Broker) Connect() overlay.Conn {
	mine, theirs := overlay.Pipe(1024)
	b.Serve(theirs)
	return mine
}

// Ready is closed when the instance can take jobs: at rank 0 once every
// rank is online, elsewhere once this broker has joined. WaitReady is the
// blocking form with a deadline.
func (b *Broker) Ready() <-chan struct{} { return b.ready }

// WaitReady waits for Ready, the broker stopping, or ctx.
func (b *Broker) WaitReady(ctx context.Context) error {
	select {
	case <-b.ready:
		return nil
	case <-b.stopped:
		if b.st.failed != nil {
			return b.st.failed
		}
		return ErrShutdown
	case <-ctx.Done():
		return fmt.Errorf("the instance did not come up: %w", ctx.Err())
	}
}

// Shutdown stops the broker: at rank 0 the whole instance (pending jobs are
// canceled, running ones killed: SIGTERM, then SIGKILL after the grace or
// when ctx ends; watching clients get every result); elsewhere this broker.
// It returns when that is done.
func (b *Broker) Shutdown(ctx context.Context) {
	b.once.Do(func() { close(b.quit) })
	select {
	case <-b.stopped:
	case <-ctx.Done():
		b.launcher.Shutdown(ctx)
		<-b.stopped
	}
	b.clientsMu.Lock()
	for c := range b.clients {
		c.close()
	}
	b.clientsMu.Unlock()
}

// Done is closed when the broker has stopped; Err then says why, if it
// stopped on its own (its parent was lost, it could not join).
func (b *Broker) Done() <-chan struct{} { return b.stopped }

// Err is why the broker stopped on its own; nil after Shutdown.
func (b *Broker) Err() error {
	select {
	case <-b.stopped:
		return b.st.failed
	default:
		return nil
	}
}

// DownRanks lists the ranks rank 0 holds lost (not rejoined), once the
// broker has stopped; nil before, and at other ranks.
func (b *Broker) DownRanks() []int {
	select {
	case <-b.stopped:
	default:
		return nil
	}
	if b.st.jm == nil {
		return nil
	}
	return b.st.jm.downList()
}

// Rank is this broker's rank.
func (b *Broker) Rank() int { return b.cfg.Rank }

// Resources returns this broker's own resources.
func (b *Broker) Resources() resources.Set { return b.cfg.Resources }

func (b *Broker) forget(c *client) {
	b.clientsMu.Lock()
	delete(b.clients, c)
	b.clientsMu.Unlock()
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
