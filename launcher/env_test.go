package launcher

import (
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strings"
	"testing"
)

func TestTaskEnv(t *testing.T) {
	base := []string{"HOME=/h", "PATH=/a:/b", "FLUX_TASK_RANK=9", "FLUX_JOB_ID=9", "FLUX_JOB_SIZE=9",
		"FLUX_TASK_LOCAL_ID=9", "FLUX_URI=local:///x", "OMP_NUM_THREADS=9", "CUDA_VISIBLE_DEVICES=9"}
	cases := []struct {
		name string
		spec Spec
		task Task
		want []string // entries that must be present
		not  []string // entries that must be absent
	}{
		{"full", Spec{JobID: 5, JobSize: 4, CoresPerTask: 2}, Task{Rank: 3, LocalID: 1, GPUs: []int{0, 2}},
			[]string{"FLUX_JOB_ID=" + jobid.String(5), "FLUX_JOB_SIZE=4", "FLUX_TASK_RANK=3", "FLUX_TASK_LOCAL_ID=1", "OMP_NUM_THREADS=2",
				"CUDA_VISIBLE_DEVICES=0,2", "HOME=/h", "FLUX_URI=local:///x"},
			[]string{"FLUX_TASK_RANK=9", "OMP_NUM_THREADS=9", "CUDA_VISIBLE_DEVICES=9"}},
		{"no gpus keeps base CUDA", Spec{JobID: 1}, Task{},
			[]string{"CUDA_VISIBLE_DEVICES=9", "OMP_NUM_THREADS=9", "FLUX_JOB_SIZE=1"}, nil},
		{"OMP from bound cores", Spec{JobID: 1}, Task{Cores: []int{4, 5, 6}},
			[]string{"OMP_NUM_THREADS=3"}, []string{"OMP_NUM_THREADS=9"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newEnvBase(base)
			if b.path != "/a:/b" || !b.hasPath {
				t.Errorf("path %q %v", b.path, b.hasPath)
			}
			c.spec.Tasks = []Task{c.task}
			env := taskEnv(&b, jobEnv(&c.spec), &c.spec, &c.task)
			seen := map[string]int{}
			for _, kv := range env {
				seen[kv]++
				k, _, _ := strings.Cut(kv, "=")
				seen[k+"="]++
			}
			for _, w := range c.want {
				if seen[w] != 1 {
					t.Errorf("%q present %d times in %q", w, seen[w], env)
				}
				k, _, _ := strings.Cut(w, "=")
				if seen[k+"="] != 1 {
					t.Errorf("%s set %d times in %q", k, seen[k+"="], env)
				}
			}
			for _, n := range c.not {
				if seen[n] != 0 {
					t.Errorf("%q should be overridden in %q", n, env)
				}
			}
		})
	}
}
