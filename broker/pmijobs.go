package broker

import (
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
)

// abort records the first PMI abort of a job and kills all its parts.
func (jm *jobManager) abort(a *ExecAbort) {
	j := jm.jobs[a.Job]
	if j == nil || j.state != stateRunning {
		return
	}
	if j.abort == nil {
		j.abort = a
	}
	jm.signal(j, syscall.SIGKILL)
}

func (jm *jobManager) abortRequest(from endpoint, m *overlay.Msg) {
	var a ExecAbort
	if err := m.Decode(&a); err == nil {
		jm.abort(&a)
	}
}
