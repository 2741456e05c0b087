package capacitor

import (
	"sort"
	"strconv"
	"strings"
)

// Shell options are flux-submit(1)'s -o/--setopt KEY[=VALUE]: settings of
// the job shell rather than of the request. Flux passes unknown keys to its
// shell plugins; we have no plugins, so an unknown key is an error (a
// misspelt option would otherwise be ignored in silence).
//
// Each known key has a checker for its value. To add one: a line here and
// the code that honours it (broker/exec.go reads them from Jobspec.Setopt).
// All are honoured; exit-timeout per node (the tasks of a job on one node).
var shellOptions = map[string]func(val string) string{
	"pmi":          checkPMI,
	"cpu-affinity": oneOf("off", "on", "per-task"),
	"gpu-affinity": oneOf("off", "on", "per-task"),
	"exit-timeout": checkExitTimeout,
	"output.limit": checkSize,
}

// ShellOptionKeys lists the known keys, for messages and --help.
func ShellOptionKeys() string {
	keys := make([]string, 0, len(shellOptions))
	for k := range shellOptions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// CheckShellOption validates one KEY=VALUE and returns it normalized, or a
// message (without the option's name) saying what is wrong.
func CheckShellOption(kv string) (string, string) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return "", "takes KEY=VALUE (a shell option)"
	}
	check := shellOptions[k]
	if check == nil {
		return "", "unknown shell option " + strconv.Quote(k) + "; known: " + ShellOptionKeys()
	}
	if msg := check(v); msg != "" {
		return "", k + " " + msg
	}
	if k == "pmi" && v != "off" && v != "on" {
		v = "on" // a list with simple in it: simple is the one we serve
	}
	return k + "=" + v, ""
}

func oneOf(vals ...string) func(string) string {
	return func(v string) string {
		for _, ok := range vals {
			if v == ok {
				return ""
			}
		}
		return "takes " + strings.Join(vals, ", ") + ", not " + strconv.Quote(v)
	}
}

// checkPMI takes off, on (ours: PMI even for one task), simple, or a Flux
// list of PMI implementations that names simple (simple,pmix).
func checkPMI(v string) string {
	if v == "off" || v == "on" {
		return ""
	}
	for _, p := range strings.Split(v, ",") {
		if p == "simple" {
			return ""
		}
	}
	return "takes off, simple or on (a list must name simple, the PMI served here), not " + strconv.Quote(v)
}

func checkExitTimeout(v string) string {
	if v == "none" {
		return ""
	}
	if d, err := ParseDuration(v); err != nil || d <= 0 {
		return "takes a duration such as 30s or none, not " + strconv.Quote(v)
	}
	return ""
}

func checkSize(v string) string {
	s := strings.TrimRight(v, "kKmMgG")
	if len(v)-len(s) > 1 || s == "" || !isDigits(s) || strings.ContainsAny(s, "+-") {
		return "takes a size such as 10M or 4096, not " + strconv.Quote(v)
	}
	return ""
}

// ShellValue returns the value of key in a list of KEY=VALUE shell options
// (the last one wins), or "".
func ShellValue(opts []string, key string) string {
	v := ""
	for _, kv := range opts {
		if k, val, _ := strings.Cut(kv, "="); k == key {
			v = val
		}
	}
	return v
}

// mergeShell returns the defaults' options followed by the line's.
func mergeShell(def, line []string) []string {
	if len(line) == 0 {
		return def[:len(def):len(def)]
	}
	return append(append([]string(nil), def...), line...)
}
