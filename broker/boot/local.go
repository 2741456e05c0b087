package boot

import (
	"fmt"
	"net"
	"strings"
)

// LocalAddrs returns every address of every interface of this host (IPv4
// and IPv6, loopback included), as net.InterfaceAddrs reports them.
func LocalAddrs() ([]net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("listing local addresses: %w", err)
	}
	var ips []net.IP
	for _, a := range addrs {
		switch v := a.(type) {
		case *net.IPNet:
			ips = append(ips, v.IP)
		case *net.IPAddr:
			ips = append(ips, v.IP)
		}
	}
	return ips, nil
}

// LocalRank returns the index of the one endpoint whose host is on this
// machine: an IP literal, or a name lookup resolves, to one of local or to a
// loopback address (tcp://127.0.0.1:x and tcp://localhost:x are local
// everywhere, which is how tests run several brokers on one host; they then
// need -Sbroker.rank). lookup resolves names; nil means net.LookupIP. Each
// distinct name is looked up once; a failed lookup is an error naming it.
func (c Config) LocalRank(local []net.IP, lookup func(host string) ([]net.IP, error)) (int, error) {
	if lookup == nil {
		lookup = net.LookupIP
	}
	file := c.File
	if file == "" {
		file = "boot.conf"
	}
	isLocal := func(ip net.IP) bool {
		if ip.IsLoopback() {
			return true
		}
		for _, l := range local {
			if l.Equal(ip) {
				return true
			}
		}
		return false
	}
	resolved := map[string]bool{} // host -> is local
	var found []int
	for i, ep := range c.Endpoints {
		loc, done := resolved[ep.Host]
		if !done {
			if ip := net.ParseIP(ep.Host); ip != nil {
				loc = isLocal(ip)
			} else {
				ips, err := lookup(ep.Host)
				if err == nil && len(ips) == 0 {
					err = fmt.Errorf("no addresses")
				}
				if err != nil {
					return -1, fmt.Errorf("%s: tbon-endpoints[%d] = %q: cannot resolve host %q: %v", file, i, ep.URI, ep.Host, err)
				}
				for _, ip := range ips {
					if isLocal(ip) {
						loc = true
						break
					}
				}
			}
			resolved[ep.Host] = loc
		}
		if loc {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		addrs := make([]string, len(local))
		for i, ip := range local {
			addrs[i] = ip.String()
		}
		eps := make([]string, 0, len(c.Endpoints))
		for i, ep := range c.Endpoints {
			if i == 8 && len(c.Endpoints) > 9 {
				eps = append(eps, fmt.Sprintf("... (%d in all)", len(c.Endpoints)))
				break
			}
			eps = append(eps, ep.URI)
		}
		return -1, fmt.Errorf("no endpoint in %s is on this host (local addresses %s); endpoints: %s; run the broker on one of those hosts or pass -Sbroker.rank=N",
			file, strings.Join(addrs, ", "), strings.Join(eps, ", "))
	default:
		return -1, fmt.Errorf("%s: tbon-endpoints[%d] and [%d] are both on this host; give each broker its own host, or pass -Sbroker.rank=N",
			file, found[0], found[1])
	}
}

// Rank is this broker's rank: -Sbroker.rank when given (checked against the
// number of endpoints), else LocalRank.
func (c Config) Rank(a Attrs, local []net.IP, lookup func(host string) ([]net.IP, error)) (int, error) {
	if _, ok := a["broker.rank"]; ok {
		r, err := a.Int("broker.rank", 0)
		if err != nil {
			return -1, err
		}
		if r < 0 || r >= len(c.Endpoints) {
			file := c.File
			if file == "" {
				file = "boot.conf"
			}
			return -1, fmt.Errorf("broker.rank=%d is out of range: %s lists %d endpoints (ranks 0-%d)", r, file, len(c.Endpoints), len(c.Endpoints)-1)
		}
		return r, nil
	}
	return c.LocalRank(local, lookup)
}

// FanoutOf is the tree fanout: -Stbon.fanout when given, else tbon-fanout
// from boot.conf, else DefaultFanout.
func (c Config) FanoutOf(a Attrs) (int, error) {
	def := DefaultFanout
	if c.Fanout > 0 {
		def = c.Fanout
	}
	f, err := a.Int("tbon.fanout", def)
	if err != nil {
		return 0, err
	}
	if f < 1 {
		return 0, fmt.Errorf("attribute tbon.fanout=%d: fanout must be >= 1 (1 is a chain)", f)
	}
	return f, nil
}
