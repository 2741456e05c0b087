package broker

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// BootOptions say how to start one broker of an instance.
type BootOptions struct {
	Attrs     boot.Attrs    // -S key=value; boot.method picks the way the broker finds its peers
	Resources resources.Set // this broker's resources; empty = discover the local ones
	Sched     sched.Options
	Logf      func(format string, args ...any)
	// Listener, when set, is this rank's tbon endpoint bound already (flux
	// start --test-size binds every rank's before writing boot.conf, so no
	// two ranks can race for a port). A broker started as a child process
	// finds it instead as the inherited descriptor ListenFDEnv names.
	Listener net.Listener
}

// ListenFDEnv names the environment variable that gives a broker started
// by flux start --test-size the descriptor of its bound tbon listener.
const ListenFDEnv = "FLUX_BROKER_LISTEN_FD"

// Instance is a broker started by Boot, with its local socket in a private
// directory; FLUX_URI for clients on this host is URI.
type Instance struct {
	*Broker
	URI      string
	Size     int
	dir      string
	listener *overlay.Listener
}

// Boot starts a broker as its attributes say: alone (boot.method=single) or
// as one rank of a multi-host instance whose brokers are listed in a
// boot.conf (boot.method=config). It returns once the broker runs; use
// WaitReady before submitting work.
func Boot(opts BootOptions) (*Instance, error) {
	a := opts.Attrs
	if err := a.Validate(); err != nil {
		return nil, err
	}
	grace, err := a.Duration("broker.kill_grace", boot.DefaultKillGrace)
	if err != nil {
		return nil, err
	}
	res := opts.Resources
	if len(res.Ranks) == 0 {
		if res, err = resources.Discover(); err != nil {
			return nil, fmt.Errorf("discovering local resources: %w", err)
		}
	}
	if n, err := a.Int("resource.cores", 0); err != nil || n < 0 {
		return nil, fmt.Errorf("resource.cores: give a number of cores (%v)", err)
	} else if n > 0 {
		res.Ranks[0].Cores = resources.RangeIDSet(0, n-1)
	}
	sim, err := a.Duration("exec.test.run_duration", 0)
	if err != nil {
		return nil, err
	}
	bind, err := a.Bool("exec.bind", true)
	if err != nil {
		return nil, err
	}
	cfg := Config{Resources: res, Sched: opts.Sched, KillGrace: grace, Logf: opts.Logf, Simulate: sim, NoBind: !bind}
	session := "flux"
	switch method := a.String("boot.method", boot.MethodSingle); method {
	case boot.MethodSingle:
	case boot.MethodConfig:
		if session, err = configBoot(a, &cfg, opts.Listener); err != nil {
			return nil, err
		}
	case boot.MethodPMI:
		if session, err = pmiBoot(a, &cfg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("boot.method=%s is not available in this build; use single, config or pmi", method)
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("flux-%s-%d-", session, cfg.Rank))
	if err != nil {
		return nil, err
	}
	l, uri, err := overlay.ListenLocal(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfg.URI = uri
	b, err := New(cfg)
	if err != nil {
		l.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	b.ServeListener(l)
	return &Instance{Broker: b, URI: uri, Size: cfg.Size, dir: dir, listener: l}, nil
}

// configBoot fills in rank, size, fanout and links from boot.conf.
func configBoot(a boot.Attrs, cfg *Config, bound net.Listener) (session string, err error) {
	if bound == nil {
		if bound, err = inheritedListener(); err != nil {
			return "", err
		}
	}
	conf, err := boot.LoadConfig(a.String("boot.config_file", ""))
	if err != nil {
		return "", err
	}
	local, err := boot.LocalAddrs()
	if err != nil {
		return "", err
	}
	rank, err := conf.Rank(a, local, nil)
	if err != nil {
		return "", err
	}
	fanout, err := conf.FanoutOf(a)
	if err != nil {
		return "", err
	}
	keyFile := a.String("broker.key_file", conf.KeyFile)
	if keyFile == "" {
		return "", fmt.Errorf("%s: no key-file: every broker needs the instance key (a 0600 file); add key-file = \"PATH\"", conf.File)
	}
	key, err := overlay.LoadKey(keyFile)
	if err != nil {
		return "", err
	}
	link, err := linkConfig(a, key, conf.SessionID, rank)
	if err != nil {
		return "", err
	}
	cfg.Rank, cfg.Size, cfg.Fanout = rank, conf.Size(), fanout
	ls := &LinkSetup{Link: link}
	if bound != nil {
		if p := bound.Addr().(*net.TCPAddr).Port; p != conf.Endpoints[rank].Port {
			bound.Close()
			return "", fmt.Errorf("%s: rank %d's endpoint has port %d, but the listener it was handed is on port %d",
				conf.File, rank, conf.Endpoints[rank].Port, p)
		}
		ls.Listener = bound // startLinks closes it when this rank has no children
	} else if len(boot.Children(rank, conf.Size(), fanout)) > 0 {
		// Listen on the endpoint's port on every address: the endpoint's
		// host may be a name that resolves to this host's address.
		ls.Listen = net.JoinHostPort(conf.Endpoints[rank].Host, fmt.Sprint(conf.Endpoints[rank].Port))
	}
	if rank > 0 {
		ls.Parent = conf.Endpoints[boot.Parent(rank, fanout)].Addr()
	}
	cfg.Links = ls
	return conf.SessionID, nil
}

// Close stops the broker (the whole instance, at rank 0) and removes its
// socket directory.
func (in *Instance) Close(ctx context.Context) {
	in.Shutdown(ctx)
	in.listener.Close()
	os.RemoveAll(in.dir)
}

// WaitReadyTimeout is WaitReady with a deadline.
func (in *Instance) WaitReadyTimeout(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return in.WaitReady(ctx)
}

// Dir is the instance's private directory (its socket lives there).
func (in *Instance) Dir() string { return filepath.Dir(in.listener.Addr()) }

// linkConfig is what every boot method gives the links: the key and session
// it found, and the tbon.encrypt and tbon.heartbeat attributes.
func linkConfig(a boot.Attrs, key overlay.Key, session string, rank int) (overlay.LinkConfig, error) {
	lc := overlay.LinkConfig{Key: key, Session: session, Rank: int32(rank)}
	var err error
	if lc.Encrypt, err = a.Bool("tbon.encrypt", boot.DefaultEncrypt); err != nil {
		return lc, err
	}
	lc.Heartbeat, err = a.Duration("tbon.heartbeat", boot.DefaultHeartbeat)
	return lc, err
}

// inheritedListener is the tbon listener a parent process handed this
// broker (see ListenFDEnv), or nil. The variable is removed so that nothing
// this broker starts inherits it.
func inheritedListener() (net.Listener, error) {
	v, ok := os.LookupEnv(ListenFDEnv)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(ListenFDEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q: give the number of an inherited descriptor (3 or more)", ListenFDEnv, v)
	}
	f := os.NewFile(uintptr(fd), "tbon-listener")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("%s=%d: not a listening socket: %w", ListenFDEnv, fd, err)
	}
	return l, nil
}
