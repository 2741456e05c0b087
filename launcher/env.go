package launcher

import (
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strconv"
	"strings"
)

// envBase is a base environment with every variable the launcher sets
// removed, so per-task variables can be appended without searching for
// duplicates. Filtering happens once per job (or once per Launcher for the
// inherited environment), not once per task.
type envBase struct {
	vars []string // base entries minus the launcher's variables
	// Entries of the base that the launcher only sometimes overrides, kept
	// for tasks where it does not.
	omp, cuda string
	path      string // value of the last PATH entry
	hasPath   bool
}

// Variables set per task; same-named base entries are dropped.
const (
	envJobID   = "FLUX_JOB_ID="
	envRank    = "FLUX_TASK_RANK="
	envSize    = "FLUX_JOB_SIZE="
	envLocalID = "FLUX_TASK_LOCAL_ID="
	envOMP     = "OMP_NUM_THREADS="
	envCUDA    = "CUDA_VISIBLE_DEVICES="
)

func newEnvBase(env []string) envBase {
	b := envBase{vars: make([]string, 0, len(env))}
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "PATH="):
			b.path, b.hasPath = kv[len("PATH="):], true
		case strings.HasPrefix(kv, envOMP):
			b.omp = kv
			continue
		case strings.HasPrefix(kv, envCUDA):
			b.cuda = kv
			continue
		case strings.HasPrefix(kv, "FLUX_") && (strings.HasPrefix(kv, envJobID) ||
			strings.HasPrefix(kv, envRank) || strings.HasPrefix(kv, envSize) ||
			strings.HasPrefix(kv, envLocalID)):
			continue
		case strings.HasPrefix(kv, "PMI_"):
			// A submitter's own PMI connection (it ran under srun or
			// mpiexec) means nothing to our tasks; theirs is in Task.Env.
			continue
		}
		b.vars = append(b.vars, kv)
	}
	return b
}

// taskEnv returns the complete environment of one task. jobVars are the
// entries common to every task of the job (FLUX_JOB_ID, FLUX_JOB_SIZE).
func taskEnv(b *envBase, jobVars []string, spec *Spec, t *Task) []string {
	env := make([]string, 0, len(b.vars)+len(jobVars)+4)
	env = append(env, b.vars...)
	env = append(env, jobVars...)
	env = append(env, envRank+strconv.Itoa(t.Rank), envLocalID+strconv.Itoa(t.LocalID))
	switch {
	case spec.CoresPerTask > 0:
		env = append(env, envOMP+strconv.Itoa(spec.CoresPerTask))
	case len(t.Cores) > 0:
		env = append(env, envOMP+strconv.Itoa(len(t.Cores)))
	case b.omp != "":
		env = append(env, b.omp)
	}
	switch {
	case len(t.GPUs) > 0:
		env = append(env, envCUDA+joinInts(t.GPUs))
	case b.cuda != "":
		env = append(env, b.cuda)
	}
	return append(env, t.Env...)
}

func jobEnv(spec *Spec) []string {
	size := spec.JobSize
	if size <= 0 {
		size = len(spec.Tasks)
	}
	return []string{
		envJobID + jobid.String(spec.JobID), // f58, as Flux sets it
		envSize + strconv.Itoa(size),
	}
}

func joinInts(ids []int) string {
	b := make([]byte, 0, 4*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(b)
}
