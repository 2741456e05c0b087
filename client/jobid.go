package client

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// JobID is a job's ID: an RFC 19 FLUID, printed in F58.
type JobID uint64

const f58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// String is the F58 encoding with the "ƒ" prefix, or "f" when
// FLUX_F58_FORCE_ASCII is set (as flux-core does).
func (id JobID) String() string {
	prefix := "ƒ"
	if os.Getenv("FLUX_F58_FORCE_ASCII") != "" {
		prefix = "f"
	}
	return prefix + id.f58()
}

func (id JobID) f58() string {
	if id == 0 {
		return "1"
	}
	var b [12]byte
	i := len(b)
	for v := uint64(id); v > 0; v /= 58 {
		i--
		b[i] = f58Alphabet[v%58]
	}
	return string(b[i:])
}

// ErrBadJobID is returned by ParseJobID for text that is no job ID.
var ErrBadJobID = errors.New("not a job ID")

// ParseJobID reads a job ID in any encoding Flux prints: decimal, 0x hex,
// dotted hex (0000.0000.0000.3039, optionally with a "job." prefix) and
// F58 with the "ƒ" or "f" prefix.
func ParseJobID(s string) (JobID, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "job.")
	switch {
	case strings.Count(t, ".") == 3:
		parts := strings.Split(t, ".")
		for _, p := range parts {
			if len(p) != 4 {
				return 0, fmt.Errorf("%q: %w", s, ErrBadJobID)
			}
		}
		v, err := strconv.ParseUint(strings.Join(parts, ""), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, ErrBadJobID)
		}
		return JobID(v), nil
	case strings.HasPrefix(t, "ƒ") || (strings.HasPrefix(t, "f") && len(t) > 1):
		body := t[1:]
		if strings.HasPrefix(t, "ƒ") {
			body = t[len("ƒ"):]
		}
		if body == "" {
			return 0, fmt.Errorf("%q: %w", s, ErrBadJobID)
		}
		var v uint64
		for _, r := range body {
			d := strings.IndexRune(f58Alphabet, r)
			if d < 0 || v > (1<<64-1-uint64(d))/58 {
				return 0, fmt.Errorf("%q: %w", s, ErrBadJobID)
			}
			v = v*58 + uint64(d)
		}
		return JobID(v), nil
	case strings.HasPrefix(t, "0x"):
		v, err := strconv.ParseUint(t[2:], 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, ErrBadJobID)
		}
		return JobID(v), nil
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, ErrBadJobID)
	}
	return JobID(v), nil
}
