package client

import "github.com/fluxtaskfarm/flux/internal/jobid"

// JobID is a job's ID: an RFC 19 FLUID, printed in F58.
type JobID uint64

// String is the F58 encoding with the "ƒ" prefix, or "f" when the locale is
// not UTF-8 or FLUX_F58_FORCE_ASCII is set: what every flux command prints.
func (id JobID) String() string { return jobid.String(uint64(id)) }

// ErrBadJobID is wrapped by every ParseJobID error.
var ErrBadJobID = jobid.ErrSyntax

// ParseJobID reads a job ID in any encoding Flux prints: F58 with the "ƒ"
// or "f" prefix, decimal, 0x hex, dotted hex (0000.0000.0000.3039, also
// with a "job." prefix) and words.
func ParseJobID(s string) (JobID, error) {
	id, err := jobid.Parse(s)
	return JobID(id), err
}
