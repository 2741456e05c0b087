package boot

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultSessionID is the session-id of a boot.conf that sets none.
const DefaultSessionID = "flux"

// Endpoint is one broker's TCP address in tbon-endpoints.
type Endpoint struct {
	URI  string // as written (surrounding blanks trimmed), "tcp://10.203.0.1:8020"
	Host string // "10.203.0.1", "node1" or "::1" (without brackets)
	Port int    // 1..65535
}

// Addr is host:port for net.Dial and net.Listen (IPv6 hosts bracketed).
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Config is a parsed boot.conf.
type Config struct {
	SessionID string     // session-id (default "flux")
	Endpoints []Endpoint // tbon-endpoints, index = rank
	KeyFile   string     // key-file, relative paths resolved against the config file's directory; "" = unset
	Fanout    int        // tbon-fanout (optional; 0 = unset)
	File      string     // the name the config was parsed under, for messages ("boot.conf")
}

// Size is the number of brokers, one per endpoint.
func (c Config) Size() int { return len(c.Endpoints) }

// configKeys are the keys a boot.conf may hold, in the order messages list them.
var configKeys = []string{"session-id", "tbon-endpoints", "key-file", "tbon-fanout"}

// ParseConfig parses a boot.conf (TOML). name is the file's name: errors
// start with it, and a relative key-file is resolved against its directory.
//
//	session-id = "mycluster"              # optional, default "flux"
//	tbon-endpoints = [                    # one per broker; rank = index
//	    "tcp://10.203.0.1:8020",
//	    "tcp://node2:8020",
//	]
//	key-file = "flux.key"                 # optional
//	tbon-fanout = 2                       # optional
func ParseConfig(data []byte, name string) (Config, error) {
	if name == "" {
		name = "boot.conf"
	}
	c := Config{SessionID: DefaultSessionID, File: name}
	fail := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}

	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.LastKey != "" {
				msg += fmt.Sprintf(" (after key %q)", pe.LastKey)
			}
			return Config{}, fmt.Errorf("%s:%d: %s", name, pe.Position.Line, msg)
		}
		return fail("%v", err)
	}

	// Unknown keys, in the order they appear (nested keys belong to an
	// unknown table; name the table once).
	var unknown []string
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		top := k[0]
		if slices.Contains(configKeys, top) || seen[top] {
			continue
		}
		seen[top] = true
		unknown = append(unknown, strconv.Quote(top))
	}
	if len(unknown) > 0 {
		what := "key"
		if len(unknown) > 1 {
			what = "keys"
		}
		return fail("unknown %s %s; known: %s", what, strings.Join(unknown, ", "), strings.Join(configKeys, ", "))
	}

	if v, ok := raw["session-id"]; ok {
		s, ok := v.(string)
		if !ok {
			return fail("session-id must be a string, not %s", tomlType(v))
		}
		if err := checkSessionID(s); err != nil {
			return fail("session-id = %q: %v", s, err)
		}
		c.SessionID = s
	}

	if v, ok := raw["key-file"]; ok {
		s, ok := v.(string)
		if !ok {
			return fail("key-file must be a string, not %s", tomlType(v))
		}
		if s == "" {
			return fail("key-file is empty; give a path or leave the key out")
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(filepath.Dir(name), s)
		}
		c.KeyFile = s
	}

	if v, ok := raw["tbon-fanout"]; ok {
		n, ok := v.(int64)
		if !ok {
			return fail("tbon-fanout must be an integer, not %s", tomlType(v))
		}
		if n < 1 || n > math.MaxInt32 {
			return fail("tbon-fanout = %d: fanout must be >= 1 (1 is a chain)", n)
		}
		c.Fanout = int(n)
	}

	v, ok := raw["tbon-endpoints"]
	if !ok {
		return fail(`no tbon-endpoints; list one per broker, e.g. tbon-endpoints = ["tcp://10.0.0.1:8020", "tcp://10.0.0.2:8020"]`)
	}
	list, ok := v.([]any)
	if !ok {
		return fail("tbon-endpoints must be an array of strings such as [\"tcp://10.0.0.1:8020\"], not %s", tomlType(v))
	}
	if len(list) == 0 {
		return fail(`tbon-endpoints is empty; list one per broker, e.g. tbon-endpoints = ["tcp://10.0.0.1:8020", "tcp://10.0.0.2:8020"]`)
	}
	first := map[string]int{} // canonical host:port -> index
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return fail("tbon-endpoints[%d] must be a string such as \"tcp://10.0.0.1:8020\", not %s", i, tomlType(item))
		}
		ep, err := ParseEndpoint(s)
		if err != nil {
			return fail("tbon-endpoints[%d] = %q: %v", i, s, err)
		}
		key := canonical(ep)
		if j, dup := first[key]; dup {
			return fail("tbon-endpoints[%d] and [%d] are both %s", j, i, c.Endpoints[j].URI)
		}
		first[key] = i
		c.Endpoints = append(c.Endpoints, ep)
	}
	return c, nil
}

// LoadConfig reads and parses the boot.conf at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("boot config: %w", err)
	}
	return ParseConfig(data, path)
}

// ParseEndpoint parses "tcp://HOST:PORT" (HOST a name, an IPv4 address or a
// bracketed IPv6 address; PORT 1..65535).
func ParseEndpoint(s string) (Endpoint, error) {
	const form = "write tcp://HOST:PORT"
	uri := strings.TrimSpace(s)
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return Endpoint{}, fmt.Errorf("no scheme; %s", form)
	}
	if scheme != "tcp" {
		return Endpoint{}, fmt.Errorf("scheme %q is not supported; %s", scheme, form)
	}
	if i := strings.IndexAny(rest, "/?#@"); i >= 0 {
		return Endpoint{}, fmt.Errorf("unexpected %q after the address; %s", rest[i:], form)
	}
	if rest == "" {
		return Endpoint{}, fmt.Errorf("empty host; %s", form)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		var ae *net.AddrError
		switch {
		case errors.As(err, &ae) && ae.Err == "missing port in address":
			return Endpoint{}, fmt.Errorf("no port; %s", form)
		case strings.Count(rest, ":") > 1 && !strings.HasPrefix(rest, "["):
			return Endpoint{}, fmt.Errorf("an IPv6 address needs brackets; write tcp://[ADDR]:PORT")
		}
		return Endpoint{}, fmt.Errorf("bad address; %s", form)
	}
	if host == "" {
		return Endpoint{}, fmt.Errorf("empty host; %s", form)
	}
	if port == "" {
		return Endpoint{}, fmt.Errorf("no port; %s", form)
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return Endpoint{}, fmt.Errorf("port %q is not a number; %s", port, form)
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Endpoint{}, fmt.Errorf("port %s out of range 1-65535", port)
	}
	ip := net.ParseIP(host)
	switch {
	case host == "*" || ip != nil && ip.IsUnspecified():
		return Endpoint{}, fmt.Errorf("host %q is a wildcard; name the host each broker runs on", host)
	case strings.HasPrefix(rest, "["):
		if ip == nil || !strings.Contains(host, ":") {
			return Endpoint{}, fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case ip == nil:
		if err := checkHostname(host); err != nil {
			return Endpoint{}, err
		}
	}
	return Endpoint{URI: uri, Host: host, Port: p}, nil
}

// checkHostname accepts DNS-style names (letters, digits, '-', '_', '.'),
// which also rejects blanks and stray punctuation.
func checkHostname(h string) error {
	if len(h) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("host %q has the character %q; a host is a name or an IP address", h, r)
		}
	}
	if strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return fmt.Errorf("host %q is not a valid name", h)
	}
	return nil
}

// canonical is the identity of an endpoint for duplicate detection: IP
// addresses in their canonical form, names in lower case without a trailing dot.
func canonical(e Endpoint) string {
	h := strings.ToLower(strings.TrimSuffix(e.Host, "."))
	if ip := net.ParseIP(e.Host); ip != nil {
		h = ip.String()
	}
	return net.JoinHostPort(h, strconv.Itoa(e.Port))
}

func checkSessionID(s string) error {
	if s == "" {
		return errors.New("empty; leave session-id out for the default \"flux\"")
	}
	if len(s) > 255 {
		return errors.New("longer than 255 characters")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '/' || r == '\\' {
			return fmt.Errorf("has the character %q; use letters, digits and punctuation other than slashes", r)
		}
	}
	return nil
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return "a date/time"
	}
}
