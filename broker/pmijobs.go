package broker

import (
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
)

// pmiRound is one PMI barrier of a job: the puts of the parts that reached
// it, and how to answer each.
type pmiRound struct {
	epoch   int
	kvs     map[string]string
	got     map[int]bool
	answers []func(map[string]string)
}

// exchange collects one part's puts of a barrier; when every part of the
// job has sent them, each gets the union. The KVS travels once up and once
// down per part and barrier, never between parts.
func (jm *jobManager) exchange(ex *PMIExchange, answer func(map[string]string)) {
	j := jm.jobs[ex.Job]
	if j == nil || j.state != stateRunning {
		answer(nil)
		return
	}
	r := j.pmi
	if r == nil || r.epoch != ex.Epoch {
		r = &pmiRound{epoch: ex.Epoch, kvs: make(map[string]string), got: make(map[int]bool)}
		j.pmi = r
	}
	for k, v := range ex.Puts {
		r.kvs[k] = v
	}
	if !r.got[ex.Rank] {
		r.got[ex.Rank] = true
		r.answers = append(r.answers, answer)
	}
	if len(r.got) < len(j.parts) {
		return
	}
	j.pmi = nil
	for _, a := range r.answers {
		a(r.kvs)
	}
}

func (jm *jobManager) exchangeRequest(from endpoint, m *overlay.Msg) {
	var ex PMIExchange
	if err := m.Decode(&ex); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "pmi.exchange: "+err.Error())
		return
	}
	jm.exchange(&ex, func(kvs map[string]string) {
		jm.st.respond(from, m, &PMIExchangeReply{KVS: kvs})
	})
}

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
