package broker

import (
	"fmt"
	"syscall"

	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/vmihailenco/msgpack/v5"
)

// The PMI key exchange of a job that spans brokers, reduced up the tree.
//
// At a barrier each part hands its local puts to its broker. A broker waits
// for the contributions of its subtree (its own part, if the job has one
// here, and one message from each child whose subtree holds parts of the
// job), merges them and sends one pmi.reduce request to its parent. The
// broker whose subtree holds every part of the job (rank 0 at worst, the
// lowest common ancestor in general) has the whole set: it answers, and
// every broker answers its children and its own part with the same set, so
// the full set travels down each link once. A barrier thus costs each
// broker one message per child instead of rank 0 one per part.
//
// Which brokers to wait for follows from the job's ranks (ExecPart.PMIRanks,
// carried up in every request), so a broker with no part of the job can
// still reduce for its children.

// pmiRoundsMax bounds the barriers in progress at one broker, over all
// jobs. A round whose job died before every part reached the barrier stays
// until its job's part here ends (dropPMI); at a broker with no part of
// that job only this limit holds it. At the limit a new round is refused:
// that barrier fails (the MPI job sees rc=-1 and ends) and the broker logs.
const pmiRoundsMax = 4096

// pmiKey names one barrier of one job.
type pmiKey struct {
	job   uint64
	epoch int
}

// pmiRound is one barrier in progress at this broker.
type pmiRound struct {
	need, got int                               // contributions expected from the subtree, and received
	kvs       map[string]string                 // their puts, merged
	local     func(map[string]string, error)    // this broker's own part, if it contributed
	children  []func(msgpack.RawMessage, error) // the children that contributed
}

// pmiReducer holds the rounds in progress at this broker; the loop owns it.
type pmiReducer struct {
	st     *state
	rounds map[pmiKey]*pmiRound
}

func newPMIReducer(st *state) *pmiReducer {
	return &pmiReducer{st: st, rounds: make(map[pmiKey]*pmiRound)}
}

// subtreeShape says, for the job's ranks, how many contributions rank me
// waits for (itself when it holds a part, plus each child on the way to a
// part) and whether its subtree holds them all.
func subtreeShape(me, fanout int, ranks resources.IDSet) (need int, all bool) {
	children := make(map[int]bool)
	in := 0
	for _, r := range ranks.IDs() {
		if r == me {
			need++
			in++
			continue
		}
		x := r
		for x > me && boot.Parent(x, fanout) > me {
			x = boot.Parent(x, fanout)
		}
		if x > me && boot.Parent(x, fanout) == me {
			children[x] = true
			in++
		}
	}
	return need + len(children), in == ranks.Count()
}

// contribute adds one contribution to the barrier ex names: this broker's
// own part's (local set), or a child's merged subtree (child set).
func (pr *pmiReducer) contribute(ex *PMIExchange, local func(map[string]string, error), child func(msgpack.RawMessage, error)) {
	st := pr.st
	key := pmiKey{ex.Job, ex.Epoch}
	r := pr.rounds[key]
	if r == nil {
		need, _ := subtreeShape(st.rank, st.fanout, ex.Ranks)
		if need == 0 {
			pr.answerErr(local, child, fmt.Errorf("rank %d is not on the way to any rank of job %d (%s)", st.rank, ex.Job, ex.Ranks))
			return
		}
		if len(pr.rounds) >= pmiRoundsMax {
			st.cfg.Logf("broker: rank %d: %d PMI barriers in progress, the most it keeps; job %d's barrier %d fails",
				st.rank, pmiRoundsMax, ex.Job, ex.Epoch)
			pr.answerErr(local, child, fmt.Errorf("rank %d has %d PMI barriers in progress already", st.rank, pmiRoundsMax))
			return
		}
		r = &pmiRound{need: need, kvs: make(map[string]string, len(ex.Puts)*need)}
		pr.rounds[key] = r
	}
	for k, v := range ex.Puts {
		r.kvs[k] = v
	}
	r.got++
	if local != nil {
		r.local = local
	} else {
		r.children = append(r.children, child)
	}
	if r.got < r.need {
		return
	}
	delete(pr.rounds, key)
	if _, all := subtreeShape(st.rank, st.fanout, ex.Ranks); all || st.rank == 0 {
		// The top of the job's subtree: the set is complete here.
		var raw msgpack.RawMessage
		var err error
		if len(r.children) > 0 {
			raw, err = msgpack.Marshal(&PMIExchangeReply{KVS: r.kvs})
		}
		pr.finish(r, r.kvs, raw, err)
		return
	}
	up := &PMIExchange{Job: ex.Job, Epoch: ex.Epoch, Rank: st.rank, Ranks: ex.Ranks, Puts: r.kvs}
	st.call(boot.Parent(st.rank, st.fanout), topicPMIReduce, up, false, func(m *overlay.Msg, err error) {
		// The children get the parent's bytes as they came; only this
		// broker's own part needs them decoded.
		var rep PMIExchangeReply
		var raw msgpack.RawMessage
		if err == nil {
			raw = m.Payload
			if r.local != nil {
				err = m.Decode(&rep)
			}
		}
		pr.finish(r, rep.KVS, raw, err)
	})
}

// finish answers every contributor of r: the local part with the set (an
// effect: its PMI server answers the tasks), the children with its encoding.
func (pr *pmiReducer) finish(r *pmiRound, kvs map[string]string, raw msgpack.RawMessage, err error) {
	if r.local != nil {
		pr.st.emit(effect{kind: fxPMIReply, pmiDone: r.local, kvs: kvs, err: err})
	}
	for _, c := range r.children {
		c(raw, err)
	}
}

// answerErr refuses one contribution.
func (pr *pmiReducer) answerErr(local func(map[string]string, error), child func(msgpack.RawMessage, error), err error) {
	if local != nil {
		pr.st.emit(effect{kind: fxPMIReply, pmiDone: local, err: err})
		return
	}
	child(nil, err)
}

// request takes a child's merged contribution.
func (pr *pmiReducer) request(from endpoint, m *overlay.Msg) {
	st := pr.st
	var ex PMIExchange
	if err := m.Decode(&ex); err != nil {
		st.respondErr(from, m, syscall.EPROTO, "pmi.reduce: "+err.Error())
		return
	}
	pr.contribute(&ex, nil, func(raw msgpack.RawMessage, err error) {
		if err != nil {
			st.respondErr(from, m, syscall.EIO, "pmi.reduce: "+err.Error())
			return
		}
		st.respond(from, m, raw)
	})
}

// drop fails the barriers of job in progress here: its part on this broker
// has ended, so they cannot complete.
func (pr *pmiReducer) drop(job uint64) {
	for key, r := range pr.rounds {
		if key.job == job {
			delete(pr.rounds, key)
			pr.finish(r, nil, nil, fmt.Errorf("job %d's part on rank %d ended before barrier %d", job, pr.st.rank, key.epoch))
		}
	}
}
