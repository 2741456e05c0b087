package report

import (
	"fmt"
	"strings"

	"github.com/fluxtaskfarm/flux/capacitor"
)

// lineCores tells the cores a job log line held, from its Command column
// (see the package comment): a line that starts with options is read with
// the capacitor's line parser; any other line, or one the parser refuses,
// holds the default (one core unless --defaults says otherwise).
type lineCores struct {
	def      capacitor.Defaults
	defCores int
	cache    map[string]int // option prefix -> cores, bounded by cacheMax
}

const cacheMax = 4096

func noEnv(string) string { return "" }

// newLineCores reads the options flux-capacitor was given (e.g. "-c2"),
// which set defaults for lines that do not say.
func newLineCores(defaults string) (*lineCores, error) {
	lc := &lineCores{defCores: 1, cache: make(map[string]int)}
	if defaults == "" {
		return lc, nil
	}
	l, _, err := capacitor.ParseLine(1, defaults+" true", capacitor.Defaults{}, noEnv)
	if err != nil {
		return nil, fmt.Errorf("--defaults %q: %v", defaults, err)
	}
	if l.Command != "true" {
		return nil, fmt.Errorf("--defaults %q: give only line options such as -n4 -c2", defaults)
	}
	lc.def.Req = l.Req
	if l.Req.Tasks == max(l.Req.Nodes, 1) {
		lc.def.Req.Tasks = 0 // as if unset: a line's own -N then gives one task per node
	}
	lc.defCores = l.Req.Cores()
	return lc, nil
}

// cores returns the cores of a line given its Command column.
func (lc *lineCores) cores(cmd []byte) int {
	if len(cmd) == 0 || cmd[0] != '-' {
		return lc.defCores
	}
	// Lines of one campaign share their options; the cache is keyed by
	// the options (the words before the command), at most cacheMax of them.
	key := optionPrefix(cmd)
	if c, ok := lc.cache[string(key)]; ok {
		return c
	}
	c := lc.defCores
	l, skip, err := capacitor.ParseLine(1, string(cmd), lc.def, noEnv)
	if err == nil && !skip {
		c = max(l.Req.Cores(), 1)
	}
	if key != nil && len(lc.cache) < cacheMax {
		lc.cache[string(key)] = c
	}
	return c
}

// optionPrefix returns the leading option words of cmd with their values
// (the part that decides its cores), or nil when it cannot tell cheaply
// and exactly where they end: a word with quotes or other shell syntax, or
// an option it does not know (which might take the next word as its value).
func optionPrefix(cmd []byte) []byte {
	i := 0
	wantValue := false
	for {
		for i < len(cmd) && (cmd[i] == ' ' || cmd[i] == '\t') {
			i++
		}
		if i >= len(cmd) {
			return nil // options only: the parser says what is wrong
		}
		j := i
		for j < len(cmd) && cmd[j] != ' ' && cmd[j] != '\t' {
			if !safeByte(cmd[j]) {
				return nil
			}
			j++
		}
		word := string(cmd[i:j])
		switch {
		case wantValue:
			wantValue = false
		case word == "--":
			return cmd[:j]
		case word[0] != '-':
			return cmd[:i]
		case valueOption[word]:
			wantValue = true
		case boolOption[word]:
		case len(word) > 2 && word[1] != '-' && valueOption[word[:2]]: // -n4
		default:
			name, _, attached := strings.Cut(word, "=")
			if !attached || !valueOption[name] { // --ntasks=4
				return nil
			}
		}
		i = j
	}
}

var valueOption = map[string]bool{
	"-n": true, "-N": true, "-c": true, "-g": true, "-t": true, "-o": true,
	"--ntasks": true, "--nodes": true, "--cores-per-task": true, "--gpus-per-task": true, "--time-limit": true,
	"--cwd": true, "--env": true, "--output": true, "--error": true, "--setopt": true,
	"--urgency": true, "--dependency": true,
}

var boolOption = map[string]bool{"--label-io": true, "--exclusive": true}

// safeByte reports whether b means itself to the shell inside a word.
func safeByte(b byte) bool {
	return b > ' ' && b < 0x7f && !strings.ContainsRune("'\"\\$`;&|<>(){}*?[]~#!", rune(b))
}
