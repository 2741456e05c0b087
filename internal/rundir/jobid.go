package rundir

import (
	"strconv"
	"strings"
)

// ParseJobID reads a job id as FLUX_JOB_ID or a user may give it: decimal,
// or f58 (RFC 19: "ƒ" or "f" and base58), so that the run directory keeps
// working whichever encoding the instance hands its jobs.
func ParseJobID(s string) (uint64, bool) {
	s = strings.TrimPrefix(s, "jobid:")
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, true
	}
	rest, ok := strings.CutPrefix(s, "ƒ")
	if !ok {
		rest, ok = strings.CutPrefix(s, "f")
	}
	if !ok || rest == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(rest); i++ {
		d := strings.IndexByte(base58, rest[i])
		if d < 0 || n > (^uint64(0)-uint64(d))/58 {
			return 0, false
		}
		n = n*58 + uint64(d)
	}
	return n, true
}

// base58 is RFC 19's alphabet (Bitcoin's: no 0, O, I, l).
const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
