package broker

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/sched"
)

// moduleService runs modules: external programs (any language) that connect
// to the broker's socket and register service names, so that requests for
// those services, from any rank below, reach them; and the built-in
// scheduler modules (sched.easy, sched.fcfs, ...), which switch the policy.
type moduleService struct {
	st        *state
	mods      map[string]*module
	providers map[string]*client // service name -> the connection providing it
}

type module struct {
	name     string
	pid      int
	builtin  bool
	removing bool // flux module remove asked it to stop
}

type moduleExit struct {
	name string
	pid  int
	err  error
}

func newModuleService(st *state) *moduleService {
	return &moduleService{st: st, mods: make(map[string]*module), providers: make(map[string]*client)}
}

func (ms *moduleService) load(from endpoint, m *overlay.Msg) {
	var req ModuleLoad
	if err := m.Decode(&req); err != nil || req.Path == "" {
		ms.st.respondErr(from, m, syscall.EINVAL, "module.load: needs a path")
		return
	}
	if strings.HasPrefix(req.Path, "sched.") && !strings.Contains(req.Path, "/") {
		ms.loadScheduler(from, m, req)
		return
	}
	name := strings.TrimSuffix(filepath.Base(req.Path), filepath.Ext(req.Path))
	if ms.mods[name] != nil {
		ms.st.respondErr(from, m, syscall.EEXIST, "module "+name+" is already loaded; remove it first")
		return
	}
	uri := ms.st.cfg.URI
	if uri == "" {
		ms.st.respondErr(from, m, syscall.ENOSYS, "this broker has no socket for a module to connect to; load modules in an instance started by flux start or flux broker")
		return
	}
	ms.st.emit(effect{kind: fxStartModule, module: &moduleStart{name: name, path: req.Path, args: req.Args,
		env: append(req.Env, "FLUX_URI="+uri, "FLUX_MODULE_NAME="+name), from: from, m: m}})
}

// started is the loop's news of a module's process: started as pid,
// or not (err). The load request is answered now.
func (ms *moduleService) started(s *moduleStart, pid int, err error) {
	if err != nil {
		ms.st.respondErr(s.from, s.m, syscall.ENOENT, fmt.Sprintf("module.load %s: %v", s.path, err))
		return
	}
	if ms.mods[s.name] != nil { // loaded twice in one pass: the first one stays
		ms.st.emit(effect{kind: fxSignal, pid: pid, sig: syscall.SIGTERM})
		ms.st.respondErr(s.from, s.m, syscall.EEXIST, "module "+s.name+" is already loaded; remove it first")
		return
	}
	ms.mods[s.name] = &module{name: s.name, pid: pid}
	ms.st.respond(s.from, s.m, &ModuleInfo{Name: s.name, Pid: pid, Rank: ms.st.rank})
}

// loadScheduler switches rank 0's scheduling policy; queued jobs are kept.
func (ms *moduleService) loadScheduler(from endpoint, m *overlay.Msg, req ModuleLoad) {
	jm := ms.st.jm
	if jm == nil {
		ms.st.respondErr(from, m, syscall.EINVAL, "scheduler modules load at rank 0 (the scheduler's rank)")
		return
	}
	opts, err := sched.ParseOptions(strings.Join(append([]string{"plugin=" + req.Path}, req.Args...), " "))
	if err == nil && jm.sched != nil {
		err = jm.sched.SetPolicy(opts)
	}
	if err != nil {
		ms.st.respondErr(from, m, syscall.EINVAL, err.Error())
		return
	}
	if jm.sched == nil {
		ms.st.cfg.Sched = opts // used when the last rank comes online
	}
	for name, mod := range ms.mods {
		if mod.builtin {
			delete(ms.mods, name)
		}
	}
	name := opts.Policy
	if !strings.HasPrefix(name, "sched.") {
		name = "sched." + name
	}
	ms.mods[name] = &module{name: name, builtin: true}
	ms.st.respond(from, m, &ModuleInfo{Name: name, Rank: ms.st.rank, Builtin: true})
}

func (ms *moduleService) list(from endpoint, m *overlay.Msg) {
	var out ModuleList
	byPid := map[int][]string{}
	for svc, c := range ms.providers {
		byPid[c.pid()] = append(byPid[c.pid()], svc)
	}
	for _, mod := range ms.mods {
		info := ModuleInfo{Name: mod.name, Pid: mod.pid, Rank: ms.st.rank, Builtin: mod.builtin, Services: byPid[mod.pid]}
		if mod.builtin {
			info.Services = []string{"sched"}
		}
		sort.Strings(info.Services)
		out.Modules = append(out.Modules, info)
	}
	sort.Slice(out.Modules, func(a, b int) bool { return out.Modules[a].Name < out.Modules[b].Name })
	ms.st.respond(from, m, &out)
}

func (ms *moduleService) remove(from endpoint, m *overlay.Msg) {
	var req ModuleRemove
	if err := m.Decode(&req); err != nil {
		ms.st.respondErr(from, m, syscall.EPROTO, "module.remove: "+err.Error())
		return
	}
	mod := ms.mods[req.Name]
	switch {
	case mod == nil:
		ms.st.respondErr(from, m, syscall.ENOENT, "no module "+req.Name+" is loaded here (flux module list shows them)")
		return
	case mod.builtin:
		ms.st.respondErr(from, m, syscall.EINVAL, req.Name+" is the scheduler; load another sched.* module to replace it")
		return
	}
	mod.removing = true
	ms.st.emit(effect{kind: fxSignal, pid: mod.pid, sig: syscall.SIGTERM})
	ms.st.respond(from, m, nil)
}

// addService registers names for the calling connection.
func (ms *moduleService) addService(from endpoint, m *overlay.Msg) {
	c, ok := from.(*client)
	if !ok {
		ms.st.respondErr(from, m, syscall.EINVAL, "service.add is for clients of this broker")
		return
	}
	var req ServiceAdd
	if err := m.Decode(&req); err != nil || len(req.Names) == 0 {
		ms.st.respondErr(from, m, syscall.EINVAL, "service.add: needs names")
		return
	}
	for _, n := range req.Names {
		if ms.st.handlers[n] != nil || (ms.providers[n] != nil && ms.providers[n] != c) {
			ms.st.respondErr(from, m, syscall.EEXIST, "service "+n+" is already provided")
			return
		}
	}
	for _, n := range req.Names {
		ms.providers[n] = c
	}
	if req.Pid > 0 {
		c.setPid(req.Pid)
	}
	ms.st.respond(from, m, nil)
}

// provider is the connection providing topic's service: the topic itself,
// or its first word ("kvs" for "kvs.get").
func (ms *moduleService) provider(topic string) *client {
	if c := ms.providers[topic]; c != nil {
		return c
	}
	if svc, _, ok := strings.Cut(topic, "."); ok {
		return ms.providers[svc]
	}
	return nil
}

func (ms *moduleService) clientGone(c *client) {
	for n, p := range ms.providers {
		if p == c {
			delete(ms.providers, n)
		}
	}
}

func (st *state) moduleExited(me moduleExit) {
	if mod := st.mods.mods[me.name]; mod != nil && mod.pid == me.pid {
		delete(st.mods.mods, me.name)
		if me.err != nil && !st.stopping && !mod.removing {
			st.cfg.Logf("broker: module %s (pid %d) exited: %v", me.name, me.pid, me.err)
		}
	}
}

// stopAll ends every module process, for shutdown.
func (ms *moduleService) stopAll() {
	for _, mod := range ms.mods {
		if !mod.builtin {
			ms.st.emit(effect{kind: fxSignal, pid: mod.pid, sig: syscall.SIGTERM})
		}
	}
}
