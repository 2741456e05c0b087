package broker

import (
	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/resources"
)

// launchSpec turns a placed job into the launcher's spec for this node.
func (st *state) launchSpec(j *job) *launcher.Spec {
	a := j.alloc.Alloc
	spec := &launcher.Spec{
		JobID:          j.id,
		Line:           j.spec.Line,
		Argv:           j.spec.Argv,
		Env:            mergeEnv(j.baseEnv, j.spec.Env),
		Cwd:            j.spec.Cwd,
		JobSize:        a.Tasks(),
		CoresPerTask:   a.CoresPerTask,
		TimeLimit:      j.spec.TimeLimit,
		OutputTemplate: j.spec.Output,
		LabelIO:        j.spec.LabelIO,
	}
	switch {
	case j.spec.Output != "":
		spec.Output = launcher.File
	case j.spec.Stream && j.watch:
		spec.Output = launcher.Stream
		c, id, cookie := j.owner, j.id, j.spec.Cookie
		spec.OnLine = func(task int, stderr bool, line []byte) {
			c.output(OutputLine{ID: id, Cookie: cookie, Task: task, Stderr: stderr, Data: line})
		}
	default:
		spec.Output = launcher.Capture
	}
	rank := 0
	spec.Tasks = make([]launcher.Task, 0, a.Tasks())
	for si, sl := range a.Slices {
		for local := 0; local < sl.Tasks; local++ {
			spec.Tasks = append(spec.Tasks, launcher.Task{
				Rank: rank, LocalID: local,
				Cores: a.TaskCores(si, local).IDs(),
				GPUs:  a.TaskGPUs(si, local).IDs(),
			})
			rank++
		}
	}
	return spec
}

// mergeEnv returns base with extra applied (an entry replaces one of the same
// name). The common case, no extra, shares base without copying.
func mergeEnv(base, extra []string) []string {
	if len(extra) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(extra))
	skip := make(map[string]bool, len(extra))
	for _, kv := range extra {
		skip[envName(kv)] = true
	}
	for _, kv := range base {
		if !skip[envName(kv)] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

func envName(kv string) string {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i]
		}
	}
	return kv
}

// freeSet is the part of the instance not allocated now.
func freeSet(s interface {
	Resources() resources.Set
	FreeOn(rank int) (resources.IDSet, resources.IDSet)
}) resources.Set {
	all := s.Resources()
	free := resources.Set{Ranks: make([]resources.Rank, len(all.Ranks))}
	for i, r := range all.Ranks {
		cores, gpus := s.FreeOn(r.Rank)
		free.Ranks[i] = resources.Rank{Rank: r.Rank, Host: r.Host, Cores: cores, GPUs: gpus}
	}
	return free
}
