package pmi

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLineLen is the longest line (without its "\n") that the Server and the
// Client read. A put is at most keylen_max+vallen_max plus a few dozen
// bytes, so this leaves ample room; a longer line is a protocol error.
const MaxLineLen = 64 << 10

// Line is one wire message: the cmd= token and the key=value tokens.
type Line map[string]string

// Cmd returns the message's command name (the value of cmd=).
func (l Line) Cmd() string { return l["cmd"] }

// ErrMalformed is wrapped by ParseLine errors.
var ErrMalformed = errors.New("pmi: malformed line")

// ParseLine parses one line without its "\n". Tokens are separated by spaces
// or tabs and split on their first '='; value= takes the rest of the line
// (spaces and '=' included) except trailing " found=TRUE"/" found=FALSE",
// which become the found key. A bare word continues the preceding msg=.
// It fails for a line without a non-empty cmd=, a token with an empty key,
// and a bare word that does not follow msg=.
func ParseLine(s string) (Line, error) {
	l := Line{}
	last := ""
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		tok := s[i:j]
		eq := strings.IndexByte(tok, '=')
		switch {
		case eq < 0 && last == "msg":
			l["msg"] += " " + tok
		case eq < 0:
			return nil, fmt.Errorf("%w: token %q has no '=' (in %q)", ErrMalformed, tok, clip(s))
		case eq == 0:
			return nil, fmt.Errorf("%w: token %q has an empty key (in %q)", ErrMalformed, tok, clip(s))
		case tok[:eq] == "value":
			v, found := trimFound(s[i+eq+1:])
			l["value"] = v
			if found != "" {
				l["found"] = found
			}
			j = len(s)
		default:
			last = tok[:eq]
			l[last] = tok[eq+1:]
		}
		i = j
	}
	if l["cmd"] == "" {
		return nil, fmt.Errorf("%w: no cmd= in %q", ErrMalformed, clip(s))
	}
	return l, nil
}

// trimFound strips hydra's trailing " found=TRUE"/" found=FALSE" (repeatedly,
// so that the result never ends in one) and returns the last one's value.
func trimFound(v string) (value, found string) {
	for {
		switch {
		case strings.HasSuffix(v, " found=TRUE"):
			v = strings.TrimSuffix(v, " found=TRUE")
			if found == "" {
				found = "TRUE"
			}
		case strings.HasSuffix(v, " found=FALSE"):
			v = strings.TrimSuffix(v, " found=FALSE")
			if found == "" {
				found = "FALSE"
			}
		default:
			return v, found
		}
	}
}

// clip shortens s for error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// FormatLine returns "cmd=<cmd> k1=v1 k2=v2 ...\n" with the pairs in the
// order given, except value=, which goes last because it runs to the end of
// the line. kv must have an even length (a programming error otherwise).
func FormatLine(cmd string, kv ...string) string {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("pmi.FormatLine(%q): odd number of key/value strings %q", cmd, kv))
	}
	var b strings.Builder
	b.WriteString("cmd=")
	b.WriteString(cmd)
	value, hasValue := "", false
	for i := 0; i < len(kv); i += 2 {
		switch kv[i] {
		case "cmd":
			continue
		case "value":
			value, hasValue = kv[i+1], true
			continue
		}
		b.WriteByte(' ')
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(kv[i+1])
	}
	if hasValue {
		b.WriteString(" value=")
		b.WriteString(value)
	}
	b.WriteByte('\n')
	return b.String()
}
