package boot

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Attrs are broker attributes given on the command line as -S key=value
// (Flux's spelling), e.g. -Sboot.method=config -Sboot.config_file=boot.conf
// -Stbon.fanout=2 -Stbon.encrypt=false. Keys are case-sensitive.
type Attrs map[string]string

// AttrDoc documents one attribute the broker understands.
type AttrDoc struct {
	Key     string // e.g. "tbon.fanout"
	Default string // as the user would write it; "" means unset
	Usage   string // one line for --help
}

// Boot methods, the values of boot.method.
const (
	MethodSingle = "single" // one broker, no peers
	MethodConfig = "config" // boot.conf lists every broker's TCP endpoint
	MethodPMI    = "pmi"    // launched under a PMI-1 server (a parent instance, mpiexec)
	MethodSlurm  = "slurm"  // launched by srun: ranks and peers from the Slurm environment
)

// Methods lists the boot methods in the order --help shows them.
var Methods = []string{MethodSingle, MethodConfig, MethodPMI, MethodSlurm}

// Defaults of the attributes that have one (also shown in KnownAttrs).
const (
	DefaultFanout    = 32
	DefaultEncrypt   = true
	DefaultHeartbeat = time.Second
	DefaultKillGrace = 5 * time.Second
)

// KnownAttrs is every attribute the broker accepts, for Validate and --help.
var KnownAttrs = []AttrDoc{
	{"boot.method", MethodSingle, "how the broker finds its peers: single, config (boot.config_file), pmi or slurm"},
	{"boot.config_file", "", "TOML file listing session-id and tbon-endpoints (boot.method=config)"},
	{"broker.rank", "", "this broker's rank, overriding the match of a local address in tbon-endpoints"},
	{"broker.key_file", "", "file holding the instance key every TCP peer must prove (overrides key-file in boot.conf)"},
	{"broker.kill_grace", "5s", "time between SIGTERM and SIGKILL when tasks are stopped"},
	{"broker.uri_file", "", "rank 0 writes its FLUX_URI (and a newline) to this file once every rank is online"},
	{"exec.test.run_duration", "", "simulated execution: tasks do not run but end after this long (e.g. 10ms), for measuring large trees"},
	{"exec.bind", "true", "bind tasks to their cores with CPU affinity (false with simulated cores)"},
	{"resource.cores", "", "this broker's cores: a number N (ids 0..N-1, simulated beyond the machine's) instead of the CPU affinity mask"},
	{"tbon.fanout", "32", "children per broker in the tree overlay (1 = chain; >= size = flat)"},
	{"tbon.encrypt", "true", "encrypt tree overlay links (true/false)"},
	{"tbon.heartbeat", "1s", "interval of the heartbeat a broker sends its parent"},
}

// ParseAttrs parses "key=value" words (what follows -S). A word without '='
// or with an empty key is an error naming it; a repeated key: the last wins.
// The value may be empty and may itself contain '='.
func ParseAttrs(args []string) (Attrs, error) {
	a := make(Attrs, len(args))
	for _, arg := range args {
		key, val, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, fmt.Errorf("attribute %q has no value; write -S%s=VALUE", arg, arg)
		}
		key = strings.TrimSpace(key)
		if key == "" {
			return nil, fmt.Errorf("attribute %q has no key; write -SKEY=VALUE", arg)
		}
		a[key] = val
	}
	return a, nil
}

// String returns the value of key, or def when it is not set.
func (a Attrs) String(key, def string) string {
	if v, ok := a[key]; ok {
		return v
	}
	return def
}

// Int returns key as a decimal integer, or def when it is not set.
func (a Attrs) Int(key string, def int) (int, error) {
	v, ok := a[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("attribute %s=%q: not an integer", key, v)
	}
	return n, nil
}

// Bool returns key as a boolean (true/false, yes/no, 1/0, on/off, any case),
// or def when it is not set.
func (a Attrs) Bool(key string, def bool) (bool, error) {
	v, ok := a[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("attribute %s=%q: not a boolean; write true or false (also yes/no, 1/0, on/off)", key, v)
}

// Duration returns key as a duration, or def when it is not set. It accepts
// Go durations ("1.5s", "250ms", "1m30s") and Flux Standard Duration: a
// number with an optional suffix s, m, h or d, a bare number being seconds
// ("5", "0.5m", "2d"). Negative durations are an error.
func (a Attrs) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := a[key]
	if !ok {
		return def, nil
	}
	d, err := parseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("attribute %s=%q: %v", key, v, err)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	const hint = "not a duration; write e.g. 1s, 250ms, 2m or a number of seconds"
	if s == "" {
		return 0, fmt.Errorf("%s", hint)
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("negative duration")
		}
		return d, nil
	}
	unit := time.Second
	num := s
	switch s[len(s)-1] {
	case 's':
		num = s[:len(s)-1]
	case 'm':
		unit, num = time.Minute, s[:len(s)-1]
	case 'h':
		unit, num = time.Hour, s[:len(s)-1]
	case 'd':
		unit, num = 24*time.Hour, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(num, "xXpP_") {
		return 0, fmt.Errorf("%s", hint)
	}
	if f < 0 {
		return 0, fmt.Errorf("negative duration")
	}
	if f*float64(unit) > math.MaxInt64 {
		return 0, fmt.Errorf("duration too long")
	}
	return time.Duration(f * float64(unit)), nil
}

// KnownKeys returns the keys of KnownAttrs, in its order.
func KnownKeys() []string {
	keys := make([]string, len(KnownAttrs))
	for i, d := range KnownAttrs {
		keys[i] = d.Key
	}
	return keys
}

// Validate checks that every key is known (the error lists the unknown keys
// and the known ones) and that the known keys have values of the right kind:
// boot.method one of Methods, broker.rank >= 0, tbon.fanout >= 1, tbon.encrypt
// a boolean, durations parse. It does not check that files exist.
func (a Attrs) Validate() error {
	known := make(map[string]bool, len(KnownAttrs))
	for _, d := range KnownAttrs {
		known[d.Key] = true
	}
	var unknown []string
	for k := range a {
		if !known[k] {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		what := "attribute"
		if len(unknown) > 1 {
			what = "attributes"
		}
		return fmt.Errorf("unknown %s %s; known: %s", what, strings.Join(unknown, ", "), strings.Join(KnownKeys(), ", "))
	}
	if m, ok := a["boot.method"]; ok {
		if !slices.Contains(Methods, m) {
			return fmt.Errorf("attribute boot.method=%q: unknown boot method; use one of %s", m, strings.Join(Methods, ", "))
		}
		if m == MethodConfig && a["boot.config_file"] == "" {
			return fmt.Errorf("boot.method=config needs -Sboot.config_file=FILE")
		}
	}
	if _, ok := a["broker.rank"]; ok {
		r, err := a.Int("broker.rank", 0)
		if err != nil {
			return err
		}
		if r < 0 {
			return fmt.Errorf("attribute broker.rank=%d: a rank is >= 0", r)
		}
	}
	if f, err := a.Int("tbon.fanout", DefaultFanout); err != nil {
		return err
	} else if f < 1 {
		return fmt.Errorf("attribute tbon.fanout=%d: fanout must be >= 1 (1 is a chain)", f)
	}
	if _, err := a.Bool("tbon.encrypt", DefaultEncrypt); err != nil {
		return err
	}
	for _, k := range []string{"tbon.heartbeat", "broker.kill_grace"} {
		if _, err := a.Duration(k, 0); err != nil {
			return err
		}
	}
	if d, _ := a.Duration("tbon.heartbeat", DefaultHeartbeat); d == 0 {
		return fmt.Errorf("attribute tbon.heartbeat=%q: the heartbeat interval must be > 0", a["tbon.heartbeat"])
	}
	return nil
}
