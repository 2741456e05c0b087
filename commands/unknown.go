package commands

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// commandNotFound answers an unknown command the way the issue asks Flux
// users to be answered: "flux: unknown command 'X'", the closest commands
// when there are any, exit 1.
func commandNotFound(c *cli.Context, name string) {
	var names []string
	prefix := "flux"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		prefix = "flux " + c.Command.Name
	}
	cmds := c.App.Commands
	if c.Command != nil && len(c.Command.Subcommands) > 0 {
		cmds = c.Command.Subcommands
	}
	for _, cmd := range cmds {
		if !cmd.Hidden {
			names = append(names, cmd.Names()...)
		}
	}
	msg := fmt.Sprintf("%s: unknown command '%s'", prefix, name)
	if close := closeMatches(name, names); len(close) > 0 {
		msg += "; did you mean '" + strings.Join(close, "' or '") + "'?"
	} else {
		msg += "; see '" + prefix + " --help'"
	}
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

// closeMatches returns the names within two edits of s (or that start with
// it), closest first.
func closeMatches(s string, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		d := editDistance(s, n)
		if len(s) >= 2 && strings.HasPrefix(n, s) && d > 1 {
			d = 1
		}
		if len(s) >= 2 && d <= 2 && d < len(n) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].d < cs[b].d })
	out := make([]string, 0, 3)
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
