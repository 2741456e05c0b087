package broker

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/pmi"
)

// HavePMI reports whether this process was started under a PMI-1 server
// (our own launcher, mpiexec, srun --mpi=pmi2), so flux start and flux
// broker can boot through it without being told.
func HavePMI(getenv func(string) string) bool {
	return getenv("PMI_FD") != "" || getenv("PMI_PORT") != ""
}

// pmiBoot bootstraps through the PMI-1 server this broker was started under:
// every broker binds its listener and puts its address card; rank 0 also
// puts the instance key (hex) — the bootstrap channel is the job's own KVS;
// after a barrier each reads its parent's card. The PMI connection is then
// finalized and closed, and the PMI_* variables are dropped from this
// process's environment, so nothing the broker launches sees them.
func pmiBoot(a boot.Attrs, cfg *Config) (session string, err error) {
	c, err := pmi.ClientFromEnv(os.Getenv)
	if err != nil {
		return "", fmt.Errorf("boot.method=pmi: %w", err)
	}
	defer func() {
		c.Close()
		for _, name := range pmi.EnvNames() {
			os.Unsetenv(name)
		}
	}()
	if err := c.Init(); err != nil {
		return "", fmt.Errorf("boot.method=pmi: init: %w", err)
	}
	rank, size := c.Rank(), c.Size()
	fanout, err := a.Int("tbon.fanout", boot.DefaultFanout)
	if err != nil {
		return "", err
	}
	cfg.Rank, cfg.Size, cfg.Fanout = rank, size, fanout
	if size == 1 {
		c.Finalize()
		return c.KVSName(), nil
	}
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return "", fmt.Errorf("boot.method=pmi: listening for broker links: %w", err)
	}
	card := net.JoinHostPort(advertisedHost(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	var key overlay.Key
	if rank == 0 {
		if key, err = overlay.NewKey(); err == nil {
			err = c.Put("flux.key", hex.EncodeToString(key[:]))
		}
	}
	if err == nil {
		err = c.Put(fmt.Sprintf("flux.card.%d", rank), card)
	}
	if err == nil {
		err = c.Barrier()
	}
	var parent string
	if err == nil && rank > 0 {
		var hexKey string
		if hexKey, err = c.Get("flux.key"); err == nil {
			var b []byte
			if b, err = hex.DecodeString(hexKey); err == nil && len(b) == len(key) {
				copy(key[:], b)
			} else if err == nil {
				err = fmt.Errorf("flux.key has %d bytes", len(b))
			}
		}
		if err == nil {
			parent, err = c.Get(fmt.Sprintf("flux.card.%d", boot.Parent(rank, fanout)))
		}
	}
	if err == nil {
		err = c.Finalize()
	}
	if err != nil {
		ln.Close()
		return "", fmt.Errorf("boot.method=pmi: rank %d of %d: %w", rank, size, err)
	}
	session = c.KVSName()
	link, err := linkConfig(a, key, session, rank)
	if err != nil {
		ln.Close()
		return "", err
	}
	cfg.Links = &LinkSetup{Link: link, Listener: ln, Parent: parent}
	return session, nil
}

// advertisedHost is the address other brokers should dial: the first
// non-loopback address this host's name resolves to (a cluster's node names
// do), else loopback: a host whose name resolves nowhere else runs all the
// brokers itself (a laptop, several Slurm nodes on one machine).
func advertisedHost() string {
	if name, err := os.Hostname(); err == nil {
		if addrs, err := net.LookupIP(name); err == nil {
			for _, ip := range addrs {
				if ip.To4() != nil && !ip.IsLoopback() {
					return ip.String()
				}
			}
		}
	}
	return "127.0.0.1"
}
