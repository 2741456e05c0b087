package rundir

import (
	"strings"

	"github.com/fluxtaskfarm/flux/client"
)

// ParseJobID reads a job id as FLUX_JOB_ID or a user may give it (decimal,
// f58, hex, dotted hex; "jobid:" before it is allowed), so that the run
// directory works whichever encoding the instance hands its jobs.
func ParseJobID(s string) (uint64, bool) {
	id, err := client.ParseJobID(strings.TrimPrefix(s, "jobid:"))
	return uint64(id), err == nil
}
