package boot

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseConfigExamples(t *testing.T) {
	tests := []struct {
		name, in string
		want     Config
	}{
		{"minimal", `tbon-endpoints = ["tcp://10.203.0.1:8020"]`,
			Config{SessionID: "flux", Endpoints: []Endpoint{{"tcp://10.203.0.1:8020", "10.203.0.1", 8020}}}},
		{"full with comments and a multi-line array", `
# boot.conf for the test cluster
session-id = "mycluster"   # shown by flux getattr
tbon-endpoints = [
    "tcp://10.203.0.1:8020",  # rank 0
    "tcp://tbhost2:8020",
    # rank 2 is IPv6
    "tcp://[fd00::3]:8021",
]
key-file = "keys/flux.key"
tbon-fanout = 2
`, Config{SessionID: "mycluster", Endpoints: []Endpoint{
			{"tcp://10.203.0.1:8020", "10.203.0.1", 8020},
			{"tcp://tbhost2:8020", "tbhost2", 8020},
			{"tcp://[fd00::3]:8021", "fd00::3", 8021},
		}, KeyFile: "/etc/flux/keys/flux.key", Fanout: 2}},
		{"inline array, same host different ports, absolute key", `tbon-endpoints=["tcp://127.0.0.1:8020","tcp://127.0.0.1:8021", 'tcp://localhost:8022']
key-file = "/run/k"`,
			Config{SessionID: "flux", Endpoints: []Endpoint{
				{"tcp://127.0.0.1:8020", "127.0.0.1", 8020},
				{"tcp://127.0.0.1:8021", "127.0.0.1", 8021},
				{"tcp://localhost:8022", "localhost", 8022},
			}, KeyFile: "/run/k"}},
		{"blanks around the URI are trimmed", `tbon-endpoints = [" tcp://node1:1 "]`,
			Config{SessionID: "flux", Endpoints: []Endpoint{{"tcp://node1:1", "node1", 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.in), "/etc/flux/boot.conf")
			if err != nil {
				t.Fatal(err)
			}
			tt.want.File = "/etc/flux/boot.conf"
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseConfigRelativeKeyFile(t *testing.T) {
	c, err := ParseConfig([]byte(`tbon-endpoints = ["tcp://a:1"]
key-file = "flux.key"`), "boot.conf")
	if err != nil || c.KeyFile != "flux.key" {
		t.Fatalf("got %q, %v; want flux.key", c.KeyFile, err)
	}
	c, _ = ParseConfig([]byte(`tbon-endpoints = ["tcp://a:1"]
key-file = "../k"`), "conf/x/boot.conf")
	if c.KeyFile != "conf/k" {
		t.Fatalf("got %q, want conf/k", c.KeyFile)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown key", `tbon-endpoint = ["tcp://a:1"]`,
			`boot.conf: unknown key "tbon-endpoint"; known: session-id, tbon-endpoints, key-file, tbon-fanout`},
		{"unknown keys and a table", "foo = 1\ntbon-endpoints = [\"tcp://a:1\"]\n[bootstrap]\nx = 1\ny = 2\n",
			`boot.conf: unknown keys "foo", "bootstrap"; known: session-id, tbon-endpoints, key-file, tbon-fanout`},
		{"no endpoints", `session-id = "x"`,
			`boot.conf: no tbon-endpoints; list one per broker, e.g. tbon-endpoints = ["tcp://10.0.0.1:8020", "tcp://10.0.0.2:8020"]`},
		{"empty file", ``, `boot.conf: no tbon-endpoints;`},
		{"empty endpoints", `tbon-endpoints = []`, `boot.conf: tbon-endpoints is empty; list one per broker`},
		{"endpoints not an array", `tbon-endpoints = "tcp://a:1"`,
			`boot.conf: tbon-endpoints must be an array of strings such as ["tcp://10.0.0.1:8020"], not a string`},
		{"endpoint not a string", `tbon-endpoints = ["tcp://a:1", 8020]`,
			`boot.conf: tbon-endpoints[1] must be a string such as "tcp://10.0.0.1:8020", not an integer`},
		{"no port", `tbon-endpoints = ["tcp://a:1", "tcp://b:1", "tcp://x"]`,
			`boot.conf: tbon-endpoints[2] = "tcp://x": no port; write tcp://HOST:PORT`},
		{"empty port", `tbon-endpoints = ["tcp://x:"]`, `boot.conf: tbon-endpoints[0] = "tcp://x:": no port; write tcp://HOST:PORT`},
		{"no scheme", `tbon-endpoints = ["10.0.0.1:8020"]`,
			`boot.conf: tbon-endpoints[0] = "10.0.0.1:8020": no scheme; write tcp://HOST:PORT`},
		{"other scheme", `tbon-endpoints = ["ipc:///tmp/x"]`,
			`boot.conf: tbon-endpoints[0] = "ipc:///tmp/x": scheme "ipc" is not supported; write tcp://HOST:PORT`},
		{"upper-case scheme", `tbon-endpoints = ["TCP://a:1"]`, `scheme "TCP" is not supported`},
		{"empty host", `tbon-endpoints = ["tcp://:8020"]`,
			`boot.conf: tbon-endpoints[0] = "tcp://:8020": empty host; write tcp://HOST:PORT`},
		{"nothing after scheme", `tbon-endpoints = ["tcp://"]`, `"tcp://": empty host; write tcp://HOST:PORT`},
		{"port out of range", `tbon-endpoints = ["tcp://a:65536"]`,
			`boot.conf: tbon-endpoints[0] = "tcp://a:65536": port 65536 out of range 1-65535`},
		{"port zero", `tbon-endpoints = ["tcp://a:0"]`, `port 0 out of range 1-65535`},
		{"port huge", `tbon-endpoints = ["tcp://a:99999999999999999999"]`, `port 99999999999999999999 out of range 1-65535`},
		{"port not a number", `tbon-endpoints = ["tcp://a:http"]`, `port "http" is not a number; write tcp://HOST:PORT`},
		{"port with sign", `tbon-endpoints = ["tcp://a:+80"]`, `port "+80" is not a number`},
		{"path", `tbon-endpoints = ["tcp://a:1/x"]`, `unexpected "/x" after the address; write tcp://HOST:PORT`},
		{"bare ipv6", `tbon-endpoints = ["tcp://fd00::1:80"]`, `an IPv6 address needs brackets; write tcp://[ADDR]:PORT`},
		{"ipv4 in brackets", `tbon-endpoints = ["tcp://[10.0.0.1]:80"]`, `"10.0.0.1" in brackets is not an IPv6 address`},
		{"wildcard", `tbon-endpoints = ["tcp://*:80"]`, `host "*" is a wildcard; name the host each broker runs on`},
		{"unspecified", `tbon-endpoints = ["tcp://0.0.0.0:80"]`, `host "0.0.0.0" is a wildcard`},
		{"space in host", `tbon-endpoints = ["tcp://no de:80"]`, `host "no de" has the character ' '`},
		{"duplicate", `tbon-endpoints = ["tcp://10.203.0.1:8020", "tcp://10.203.0.2:8020", "tcp://10.203.0.3:8020", "tcp://10.203.0.2:8020"]`,
			`boot.conf: tbon-endpoints[1] and [3] are both tcp://10.203.0.2:8020`},
		{"duplicate by case", `tbon-endpoints = ["tcp://Node1:1", "tcp://node1:1"]`,
			`boot.conf: tbon-endpoints[0] and [1] are both tcp://Node1:1`},
		{"duplicate ipv6 spelling", `tbon-endpoints = ["tcp://[fd00::1]:1", "tcp://[fd00:0::1]:1"]`,
			`tbon-endpoints[0] and [1] are both tcp://[fd00::1]:1`},
		{"session-id type", `session-id = 3
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: session-id must be a string, not an integer`},
		{"session-id empty", `session-id = ""
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: session-id = "": empty`},
		{"session-id slash", `session-id = "a/b"
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: session-id = "a/b": has the character '/'`},
		{"fanout zero", `tbon-fanout = 0
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: tbon-fanout = 0: fanout must be >= 1 (1 is a chain)`},
		{"fanout float", `tbon-fanout = 2.5
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: tbon-fanout must be an integer, not a float`},
		{"key-file type", `key-file = true
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: key-file must be a string, not a boolean`},
		{"key-file empty", `key-file = ""
tbon-endpoints = ["tcp://a:1"]`, `boot.conf: key-file is empty`},
		{"malformed: unterminated array", "session-id = \"x\"\n\ntbon-endpoints = [\"tcp://a:1\",\n", `boot.conf:3: unexpected EOF; expected value (after key "tbon-endpoints")`},
		{"malformed: missing quote", "session-id = \"x\"\ntbon-endpoints = [\"tcp://a:1]\n", `boot.conf:2: `},
		{"malformed: duplicate key", "session-id = \"x\"\nsession-id = \"y\"\n", `boot.conf:2: `},
		{"malformed: bare word", "tbon-endpoints = [tcp://a:1]\n", `boot.conf:1: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.in), "boot.conf")
			if err == nil {
				t.Fatalf("no error; got %+v", c)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n  %s\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "boot.conf")
	if err := os.WriteFile(p, []byte("tbon-endpoints = [\"tcp://a:1\"]\nkey-file = \"k\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyFile != filepath.Join(dir, "k") || c.File != p || c.Size() != 1 || c.Endpoints[0].Addr() != "a:1" {
		t.Errorf("got %+v", c)
	}
	_, err = LoadConfig(filepath.Join(dir, "missing.conf"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.conf") {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(p, []byte("tbon-endpoints = [\"tcp://a\"]"), 0o600)
	if _, err := LoadConfig(p); err == nil || !strings.HasPrefix(err.Error(), p+": tbon-endpoints[0]") {
		t.Errorf("error does not name the path: %v", err)
	}
}

func ips(ss ...string) []net.IP {
	var out []net.IP
	for _, s := range ss {
		out = append(out, net.ParseIP(s))
	}
	return out
}

func TestLocalRank(t *testing.T) {
	hosts := map[string][]net.IP{
		"tbhost1":   ips("10.203.0.1"),
		"tbhost2":   ips("10.203.0.2"),
		"tbhost3":   ips("10.203.0.3", "fd00::3"),
		"localhost": ips("127.0.0.1", "::1"),
		"debian":    ips("127.0.1.1"), // Debian's /etc/hosts entry for the own name
	}
	calls := map[string]int{}
	lookup := func(h string) ([]net.IP, error) {
		calls[h]++
		if a, ok := hosts[h]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}
	cfg := func(eps ...string) Config {
		t.Helper()
		s := `tbon-endpoints = ["` + strings.Join(eps, `", "`) + `"]`
		c, err := ParseConfig([]byte(s), "boot.conf")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	three := cfg("tcp://10.203.0.1:8020", "tcp://10.203.0.2:8020", "tcp://10.203.0.3:8020")
	names := cfg("tcp://tbhost1:8020", "tcp://tbhost2:8020", "tcp://tbhost3:8020")

	ok := []struct {
		name  string
		c     Config
		local []net.IP
		want  int
	}{
		{"by IP", three, ips("127.0.0.1", "10.203.0.2", "::1"), 1},
		{"by name", names, ips("127.0.0.1", "10.203.0.2"), 1},
		{"by name, IPv6 local", names, ips("fd00::3"), 2},
		{"loopback is local", cfg("tcp://10.9.9.9:1", "tcp://127.0.0.1:8020"), ips("10.203.0.1"), 1},
		{"localhost name is local", cfg("tcp://10.9.9.9:1", "tcp://localhost:8020"), nil, 1},
		{"127.0.1.1 is loopback", cfg("tcp://tbhost1:1", "tcp://debian:1"), ips("10.203.0.2"), 1},
	}
	for _, tt := range ok {
		r, err := tt.c.LocalRank(tt.local, lookup)
		if err != nil || r != tt.want {
			t.Errorf("%s: got %d, %v; want %d", tt.name, r, err, tt.want)
		}
	}

	// a host named twice is looked up once
	calls = map[string]int{}
	c := cfg("tcp://tbhost1:1", "tcp://tbhost1:2", "tcp://tbhost2:1")
	if r, err := c.LocalRank(ips("10.203.0.2"), lookup); r != 2 || err != nil || calls["tbhost1"] != 1 {
		t.Errorf("got %d, %v, lookups %v", r, err, calls)
	}

	bad := []struct {
		name  string
		c     Config
		local []net.IP
		want  string
	}{
		{"none local", three, ips("10.203.0.9", "127.0.0.1"),
			"no endpoint in boot.conf is on this host (local addresses 10.203.0.9, 127.0.0.1); endpoints: tcp://10.203.0.1:8020, tcp://10.203.0.2:8020, tcp://10.203.0.3:8020; run the broker on one of those hosts or pass -Sbroker.rank=N"},
		{"two local", three, ips("10.203.0.1", "10.203.0.3"),
			"boot.conf: tbon-endpoints[0] and [2] are both on this host; give each broker its own host, or pass -Sbroker.rank=N"},
		{"loopback twice", cfg("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"), ips("10.203.0.1"),
			"boot.conf: tbon-endpoints[0] and [1] are both on this host; give each broker its own host, or pass -Sbroker.rank=N"},
		{"lookup fails", cfg("tcp://tbhost1:1", "tcp://nosuch:1"), ips("10.203.0.1"),
			`boot.conf: tbon-endpoints[1] = "tcp://nosuch:1": cannot resolve host "nosuch": no such host`},
	}
	for _, tt := range bad {
		r, err := tt.c.LocalRank(tt.local, lookup)
		if err == nil || err.Error() != tt.want || r != -1 {
			t.Errorf("%s: got %d, %v\nwant error %s", tt.name, r, err, tt.want)
		}
	}

	// long endpoint lists are abbreviated in the message
	var many []string
	for i := 1; i <= 20; i++ {
		many = append(many, "tcp://10.203.0."+strconv.Itoa(i)+":1")
	}
	_, err := cfg(many...).LocalRank(ips("10.1.1.1"), lookup)
	if err == nil || !strings.Contains(err.Error(), "tcp://10.203.0.8:1, ... (20 in all);") {
		t.Errorf("long list: %v", err)
	}
}

func TestRankAndFanout(t *testing.T) {
	c, _ := ParseConfig([]byte(`tbon-endpoints = ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"]
tbon-fanout = 4`), "b.conf")
	a := Attrs{"broker.rank": "1"}
	if r, err := c.Rank(a, nil, nil); r != 1 || err != nil {
		t.Errorf("override: %d %v", r, err)
	}
	if _, err := c.Rank(Attrs{"broker.rank": "2"}, nil, nil); err == nil ||
		err.Error() != "broker.rank=2 is out of range: b.conf lists 2 endpoints (ranks 0-1)" {
		t.Errorf("range: %v", err)
	}
	if _, err := c.Rank(Attrs{}, nil, nil); err == nil || !strings.Contains(err.Error(), "both on this host") {
		t.Errorf("ambiguous without override: %v", err)
	}
	if f, _ := c.FanoutOf(Attrs{}); f != 4 {
		t.Errorf("fanout from file: %d", f)
	}
	if f, _ := c.FanoutOf(Attrs{"tbon.fanout": "2"}); f != 2 {
		t.Errorf("fanout from attr: %d", f)
	}
	if f, _ := (Config{}).FanoutOf(Attrs{}); f != DefaultFanout {
		t.Errorf("default fanout: %d", f)
	}
	if _, err := c.FanoutOf(Attrs{"tbon.fanout": "0"}); err == nil {
		t.Error("fanout 0 accepted")
	}
}

func TestLocalAddrs(t *testing.T) {
	addrs, err := LocalAddrs()
	if err != nil {
		t.Fatal(err)
	}
	loop := false
	for _, a := range addrs {
		loop = loop || a.IsLoopback()
	}
	if !loop {
		t.Errorf("no loopback address among %v", addrs)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`tbon-endpoints = ["tcp://10.203.0.1:8020", "tcp://[::1]:1"]`,
		"session-id = \"x\" # c\ntbon-endpoints = [\n\"tcp://a:1\",\n]\nkey-file = \"k\"\ntbon-fanout = 3\n",
		`tbon-endpoint = 1`, `[t]
a = 1`, `tbon-endpoints = ["tcp://a:1", "tcp://A:1"]`, `tbon-endpoints = [1, "x"]`, "\x00", `a = """`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "boot.conf")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "boot.conf") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(c.Endpoints) == 0 || c.SessionID == "" || c.Fanout < 0 {
			t.Fatalf("accepted %+v", c)
		}
		seen := map[string]bool{}
		for _, e := range c.Endpoints {
			if e.Port < 1 || e.Port > 65535 || e.Host == "" || seen[canonical(e)] {
				t.Fatalf("accepted bad endpoint %+v in %+v", e, c)
			}
			seen[canonical(e)] = true
			if e2, err := ParseEndpoint(e.URI); err != nil || e2 != e {
				t.Fatalf("endpoint %q does not reparse: %+v %v", e.URI, e2, err)
			}
		}
		_, _ = c.LocalRank(ips("127.0.0.1"), func(string) ([]net.IP, error) { return nil, errors.New("x") })
	})
}
