package broker

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// Config is validated once, by New.
type Config struct {
	Resources    resources.Set // what the instance may use (required)
	Sched        sched.Options
	KillGrace    time.Duration // SIGTERM -> SIGKILL delay for cancel and time limits (default 5s)
	History      int           // finished jobs kept for flux jobs -a and attach (default 1000)
	HistoryBytes int           // captured output kept for attach, over all history (default 64 MiB)
	OutputLimit  int           // per task and stream, captured in memory (default 4 MiB; launcher.Options)
	Logf         func(format string, args ...any)
}

// Broker is one instance on one node.
type Broker struct {
	cfg      Config
	host     string
	launcher *launcher.Launcher

	reqs     chan request          // client readers -> loop; bounded, so a flood blocks its reader
	done     chan *launcher.Result // launcher -> loop
	kills    chan uint64           // cancel escalation timers -> loop
	quit     chan struct{}         // closed by Shutdown
	quitOnce sync.Once
	stopped  chan struct{} // closed when the loop has ended

	clientsMu sync.Mutex
	clients   map[*client]struct{} // guarded by clientsMu; the loop does not need it

	// Owned by the loop goroutine.
	st *state
}

type request struct {
	c    *client
	m    *overlay.Msg
	gone bool // the client's connection ended
}

// Sentinel errors callers can branch on.
var (
	ErrShutdown = errors.New("the instance is shutting down")
)

// New validates cfg, starts the instance's loop and returns the broker.
func New(cfg Config) (*Broker, error) {
	if len(cfg.Resources.Ranks) == 0 {
		return nil, errors.New("broker: the resource set is empty")
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
	s, err := sched.New(cfg.Resources, cfg.Sched)
	if err != nil {
		return nil, err
	}
	host := cfg.Resources.Ranks[0].Host
	if host == "" {
		host, _ = os.Hostname()
		host, _, _ = strings.Cut(host, ".")
	}
	b := &Broker{
		cfg:      cfg,
		host:     host,
		launcher: launcher.New(launcher.Options{KillGrace: cfg.KillGrace, OutputLimit: cfg.OutputLimit}),
		reqs:     make(chan request, 1024),
		done:     make(chan *launcher.Result, 4096),
		kills:    make(chan uint64, 64),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		clients:  make(map[*client]struct{}),
	}
	b.st = newState(b, s)
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

// Shutdown cancels every pending job, kills every running one (SIGTERM,
// then SIGKILL after the kill grace or when ctx ends), delivers their results
// to watching clients, and stops the loop. It returns when all of that is done.
func (b *Broker) Shutdown(ctx context.Context) {
	b.quitOnce.Do(func() { close(b.quit) })
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

// Done is closed when the broker has stopped.
func (b *Broker) Done() <-chan struct{} { return b.stopped }

// Resources returns the instance's resource set.
func (b *Broker) Resources() resources.Set { return b.cfg.Resources }

func (b *Broker) forget(c *client) {
	b.clientsMu.Lock()
	delete(b.clients, c)
	b.clientsMu.Unlock()
}

// loop is the one goroutine that owns instance state. Each wake-up drains
// whatever is queued on its channels before it schedules once, so a burst of
// finished tasks costs one scheduling pass, not one each.
func (b *Broker) loop() {
	defer close(b.stopped)
	st := b.st
	quit := b.quit
	for {
		select {
		case r := <-b.reqs:
			st.handle(r)
		case res := <-b.done:
			st.finished(res)
		case id := <-b.kills:
			st.escalate(id)
		case <-quit:
			quit = nil // switch this case off; drain from now on
			st.beginShutdown()
		}
		b.drain(st)
		if st.draining {
			if st.idle() {
				st.flushAll()
				return
			}
			continue
		}
		st.schedule()
	}
}

// drain handles what is already queued without blocking.
func (b *Broker) drain(st *state) {
	for i := 0; i < 4096; i++ {
		select {
		case res := <-b.done:
			st.finished(res)
		case r := <-b.reqs:
			st.handle(r)
		default:
			return
		}
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
