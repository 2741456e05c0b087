package broker

import (
	"fmt"
	"github.com/fluxtaskfarm/flux/broker/boot"
	"slices"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/overlay"
)

// endpoint is where a message came from: a client connection or a peer
// broker. To the state it is an identity; what reaches it leaves as an
// effect (fxReply, fxSend).
type endpoint interface {
	isEndpoint()
}

// handler serves one topic at this broker.
type handler func(from endpoint, m *overlay.Msg)

// state is everything the loop owns. Nothing else touches it. It is the
// broker's state machine: events change it and append effects (fx) that the
// loop performs (effects.go); it reads no clock but now and starts nothing.
type state struct {
	cfg                *Config
	ring               *logRing
	rank, size, fanout int
	host               string
	started            time.Time // when the broker started, for flux uptime
	now                time.Time // the time of the event being handled, set by the loop

	fx     []effect // what this pass asks the loop to do, in order
	failed error    // why the broker stops on its own (fail), the first reason

	jm   *jobManager // rank 0 only
	exec *execService
	ev   *eventService
	pmi  *pmiReducer // PMI barriers in progress here (pmireduce.go)
	mods *moduleService

	handlers map[string]handler
	parent   *peer
	children map[int]*peer
	kids     []*peer // childPeers' buffer

	// pending maps the tags of requests this broker sent on someone's behalf
	// (a client's request leaving the broker, a request handed to a module)
	// or for itself, to where the response goes.
	pending map[uint32]*pendingReq
	nextTag uint32

	// upQueue holds messages that must go up before this broker's parent
	// link exists (a child's hello can arrive first); bounded by upQueueMax.
	upQueue []queued

	// ranks is each rank's state and since when (rank 0 only; see rejoin.go).
	ranks map[int]*rankStatus
	// joined: this broker has had a parent link once (Ready is closed);
	// a later one is a rejoin.
	joined bool

	stopping bool
	forced   bool
}

type queued struct {
	m    *overlay.Msg
	bulk bool
}

// upQueueMax bounds upQueue: a few messages per child is all boot needs.
const upQueueMax = 4096

// holdForParent queues m when it must go up and the parent link is not up
// yet; false when it cannot (rank 0, stopping, or the queue is full).
func (st *state) holdForParent(dst int, m *overlay.Msg, bulk bool) bool {
	if st.rank == 0 || st.parent != nil || st.stopping || len(st.upQueue) >= upQueueMax {
		return false
	}
	if dst >= 0 && dst < st.size && boot.NextHop(st.rank, dst, st.size, st.fanout) != boot.Parent(st.rank, st.fanout) {
		return false
	}
	st.upQueue = append(st.upQueue, queued{m, bulk})
	return true
}

type pendingReq struct {
	origin  endpoint // who asked (nil for the broker's own calls)
	origTag uint32
	origSrc int32
	topic   string
	stream  bool
	dst     int     // the rank it went to; -1 upstream
	via     *client // the module it was handed to, whose answer alone counts
	cb      func(m *overlay.Msg, err error)
}

// newState makes the state of a broker with cfg (validated by New).
func newState(cfg *Config, ring *logRing, host string, started time.Time) (*state, error) {
	st := &state{
		cfg: cfg, ring: ring, rank: cfg.Rank, size: cfg.Size, fanout: cfg.Fanout, host: host,
		started: started, now: started,
		children: make(map[int]*peer),
		pending:  make(map[uint32]*pendingReq),
	}
	st.exec = newExecService(st)
	st.pmi = newPMIReducer(st)
	st.ev = newEventService(st)
	st.mods = newModuleService(st)
	st.handlers = map[string]handler{
		TopicPing:       st.ping,
		topicRefused:    st.refusedRequest,
		TopicEventSub:   st.ev.subscribe,
		TopicModLoad:    st.mods.load,
		TopicModList:    st.mods.list,
		TopicModRemove:  st.mods.remove,
		TopicServiceAdd: st.mods.addService,
		topicExecStart:  st.exec.startRequest,
		topicExecKill:   st.exec.killRequest,
		topicPMIReduce:  st.pmi.request,
		topicShutdown:   st.shutdownRequest,
		TopicAttrs:      st.attrs,
		TopicDmesg:      st.dmesg,
	}
	if st.rank == 0 {
		jm, err := newJobManager(st)
		if err != nil {
			return nil, err
		}
		st.jm = jm
		st.setRank(0, rankOnline, "")
		for topic, h := range map[string]handler{
			TopicSubmit:     jm.submit,
			TopicResults:    jm.openResults,
			TopicList:       jm.list,
			TopicCancel:     jm.cancel,
			TopicAttach:     jm.attach,
			TopicResources:  jm.resources,
			TopicDrain:      jm.drain,
			TopicWait:       jm.waitRequest,
			TopicEventPub:   st.ev.publishRequest,
			topicHello:      jm.hello,
			topicLost:       jm.lostNotice,
			topicExecDone:   jm.execDone,
			topicExecOutput: jm.execOutput,
			topicDisconnect: jm.disconnect,
			TopicStop:       st.stopRequest,
			topicExecAbort:  jm.abortRequest,
			TopicUrgency:    jm.setUrgency,
			TopicQueue:      jm.queueControl,
			TopicQueueWait:  jm.queueWait,
		} {
			st.handlers[topic] = h
		}
	}
	return st, nil
}

func (st *state) handle(r request) {
	if r.gone {
		st.gone(r.from)
		return
	}
	m := r.m
	switch m.Type {
	case overlay.Request:
		st.request(r.from, m, r.bulk)
	case overlay.Response:
		st.response(r.from, m, r.bulk)
	case overlay.Event:
		if p, ok := r.from.(*peer); ok && p == st.parent {
			st.ev.received(m)
		}
	}
}

func expectsResponse(m *overlay.Msg) bool { return m.Flags&overlay.FlagNoResponse == 0 }

// request serves m here, hands it to a module, or sends it on: to the rank
// it names, or (naming none) up towards rank 0 until a broker provides it.
func (st *state) request(from endpoint, m *overlay.Msg, bulk bool) {
	if _, ok := from.(*client); ok {
		m.Src = -1
	}
	if m.Dst >= 0 && int(m.Dst) != st.rank {
		st.forward(from, m, bulk, int(m.Dst))
		return
	}
	if h := st.handlers[m.Topic]; h != nil {
		h(from, m)
		return
	}
	if prov := st.mods.provider(m.Topic); prov != nil {
		st.handTo(from, m, prov)
		return
	}
	if m.Dst < 0 && st.rank != 0 {
		st.forward(from, m, bulk, -1)
		return
	}
	st.respondErr(from, m, syscall.ENOSYS, "no service "+m.Topic+" in this instance")
}

// forward sends m towards rank dst (-1: the parent). A client's request gets
// a tag of this broker's, so that the response finds its way back here.
func (st *state) forward(from endpoint, m *overlay.Msg, bulk bool, dst int) {
	next := st.nextHop(dst)
	early := next == nil && st.parent == nil && st.rank > 0 && !st.stopping // the parent link is not up yet
	if next == nil && !early {
		st.respondErr(from, m, syscall.EHOSTUNREACH, fmt.Sprintf("rank %d cannot be reached from rank %d", dst, st.rank))
		return
	}
	origTag := m.Tag
	if c, ok := from.(*client); ok {
		if expectsResponse(m) {
			tag := st.newTag()
			st.pending[tag] = &pendingReq{origin: c, origTag: m.Tag, origSrc: -1, topic: m.Topic,
				stream: m.Flags&overlay.FlagStreaming != 0, dst: dst}
			m.Tag = tag
		}
		m.Src = int32(st.rank)
	}
	if next == nil {
		if !st.holdForParent(dst, m, bulk) {
			if _, ok := from.(*client); ok {
				delete(st.pending, m.Tag)
				m.Tag, m.Src = origTag, -1
			}
			st.respondErr(from, m, syscall.EHOSTUNREACH, fmt.Sprintf("rank %d cannot be reached from rank %d (its parent link is not up)", dst, st.rank))
		}
		return
	}
	st.send(next, m, bulk)
}

// handTo gives a request to the module connection that provides its service.
func (st *state) handTo(from endpoint, m *overlay.Msg, prov *client) {
	if expectsResponse(m) {
		tag := st.newTag()
		st.pending[tag] = &pendingReq{origin: from, origTag: m.Tag, origSrc: m.Src, topic: m.Topic,
			stream: m.Flags&overlay.FlagStreaming != 0, dst: st.rank, via: prov}
		m.Tag = tag
	}
	m.Src = int32(st.rank)
	st.reply(prov, m)
}

// call sends the broker's own request to rank dst; cb gets the response (or
// the error that it cannot come).
func (st *state) call(dst int, topic string, body any, bulk bool, cb func(*overlay.Msg, error)) {
	m, err := overlay.NewRequest(topic, body)
	if err != nil {
		cb(nil, err)
		return
	}
	m.Src, m.Dst = int32(st.rank), int32(dst)
	if cb != nil {
		m.Tag = st.newTag()
		st.pending[m.Tag] = &pendingReq{topic: topic, dst: dst, cb: cb}
	} else {
		m.Flags |= overlay.FlagNoResponse
	}
	next := st.nextHop(dst)
	if next == nil {
		if st.holdForParent(dst, m, bulk) {
			return
		}
		if cb != nil {
			delete(st.pending, m.Tag)
			cb(nil, fmt.Errorf("rank %d cannot be reached from rank %d", dst, st.rank))
		}
		return
	}
	st.send(next, m, bulk)
}

func (st *state) response(from endpoint, m *overlay.Msg, bulk bool) {
	_, fromPeer := from.(*peer)
	if fromPeer && int(m.Dst) != st.rank {
		st.route(m, bulk)
		return
	}
	pr := st.pending[m.Tag]
	if pr == nil || (pr.via != nil && from != endpoint(pr.via)) || (pr.via == nil && !fromPeer) {
		return // late, or not an answer this endpoint may give
	}
	if m.Flags&overlay.FlagMore == 0 {
		delete(st.pending, m.Tag)
	}
	if pr.cb != nil {
		pr.cb(m, nil)
		return
	}
	m.Tag, m.Dst, m.Src = pr.origTag, pr.origSrc, int32(st.rank)
	st.sendResponse(pr.origin, m)
}

// route sends a message on towards m.Dst.
func (st *state) route(m *overlay.Msg, bulk bool) {
	if next := st.nextHop(int(m.Dst)); next != nil {
		st.send(next, m, bulk)
		return
	}
	st.holdForParent(int(m.Dst), m, bulk)
}

// nextHop is the peer on the way to rank dst (-1: the parent); nil when
// there is none (this rank, or a lost one).
func (st *state) nextHop(dst int) *peer {
	if dst == st.rank || dst >= st.size {
		return nil
	}
	if dst < 0 {
		return st.parent
	}
	hop := boot.NextHop(st.rank, dst, st.size, st.fanout)
	if hop == boot.Parent(st.rank, st.fanout) {
		return st.parent
	}
	return st.children[hop]
}

// childPeers lists the children's peers in rank order, so that the same
// events always give the same effects in the same order. The slice is
// reused: use it before the next call.
func (st *state) childPeers() []*peer {
	st.kids = st.kids[:0]
	for _, p := range st.children {
		st.kids = append(st.kids, p)
	}
	slices.SortFunc(st.kids, func(a, b *peer) int { return a.rank - b.rank })
	return st.kids
}

func (st *state) newTag() uint32 {
	for {
		st.nextTag++
		if st.nextTag == 0 {
			continue
		}
		if _, used := st.pending[st.nextTag]; !used {
			return st.nextTag
		}
	}
}

// respond answers req (from a client or a peer) with body.
func (st *state) respond(from endpoint, req *overlay.Msg, body any) {
	if !expectsResponse(req) {
		return
	}
	resp, err := req.Respond(body)
	if err != nil {
		resp = req.RespondError(syscall.EPROTO, err.Error())
	}
	st.sendResponse(from, resp)
}

func (st *state) respondErr(from endpoint, req *overlay.Msg, errno syscall.Errno, text string) {
	if !expectsResponse(req) {
		return
	}
	st.sendResponse(from, req.RespondError(errno, text))
}

// sendResponse delivers a response to a client directly, or routes it to
// the rank it is addressed to.
func (st *state) sendResponse(to endpoint, resp *overlay.Msg) {
	resp.Src = int32(st.rank)
	if c, ok := to.(*client); ok {
		st.reply(c, resp)
		return
	}
	st.route(resp, false)
}

// failPending ends the requests waiting on ranks that are gone.
func (st *state) failPending(lost map[int]bool, why string) {
	for tag, pr := range st.pending {
		if !lost[pr.dst] && !(pr.dst < 0 && lost[-1]) {
			continue
		}
		delete(st.pending, tag)
		if pr.cb != nil {
			pr.cb(nil, fmt.Errorf("%s", why))
			continue
		}
		if pr.origin != nil {
			st.sendResponse(pr.origin, &overlay.Msg{Type: overlay.Response, Topic: pr.topic, Tag: pr.origTag,
				Dst: pr.origSrc, Errnum: int32(syscall.EHOSTUNREACH), Errstr: why})
		}
	}
}

func (st *state) ping(from endpoint, m *overlay.Msg) {
	var req PingRequest
	if err := m.Decode(&req); err != nil && len(m.Payload) > 0 {
		st.respondErr(from, m, syscall.EPROTO, "broker.ping: "+err.Error())
		return
	}
	st.respond(from, m, &PingReply{Seq: req.Seq, Pad: req.Pad, Rank: st.rank, Host: st.host})
}
