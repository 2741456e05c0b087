package commands

import (
	"strings"

	"github.com/fluxtaskfarm/flux/broker"
)

// jobspecJSON renders a job as a Flux jobspec (RFC 14, version 1), for
// --dry-run and flux job info ID jobspec: what a Flux user's tools expect to
// read. env is the environment the job would get (nil: left out).
func jobspecJSON(s *broker.Jobspec, env []string) map[string]any {
	r := s.Req
	slot := map[string]any{"type": "slot", "count": r.Tasks, "label": "task",
		"with": withGPUs([]any{map[string]any{"type": "core", "count": max(r.CoresPerTask, 1)}}, r.GPUsPerTask)}
	resources := []any{slot}
	if r.Nodes > 0 {
		slot["count"] = r.Tasks / r.Nodes
		node := map[string]any{"type": "node", "count": r.Nodes, "with": []any{slot}}
		if r.Exclusive {
			node["exclusive"] = true
		}
		resources = []any{node}
	}
	system := map[string]any{"duration": s.TimeLimit.Seconds()}
	if s.Cwd != "" {
		system["cwd"] = s.Cwd
	}
	if env != nil {
		e := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			e[k] = v
		}
		system["environment"] = e
	}
	if s.Name != "" {
		system["job"] = map[string]any{"name": s.Name}
	}
	shell := map[string]any{}
	for _, kv := range s.Setopt {
		k, v, _ := strings.Cut(kv, "=")
		shell[k] = v
	}
	if len(shell) > 0 {
		system["shell"] = map[string]any{"options": shell}
	}
	if s.Output != "" || s.LabelIO {
		out := map[string]any{}
		if s.Output != "" {
			out["stdout"] = map[string]any{"type": "file", "path": s.Output, "label": s.LabelIO}
		}
		if s.Error != "" {
			out["stderr"] = map[string]any{"type": "file", "path": s.Error, "label": s.LabelIO}
		}
		system["shell"] = mergeMap(system["shell"], map[string]any{"options": map[string]any{"output": out}})
	}
	return map[string]any{
		"version":    1,
		"resources":  resources,
		"tasks":      []any{map[string]any{"command": s.Argv, "slot": "task", "count": map[string]any{"per_slot": 1}}},
		"attributes": map[string]any{"system": system},
	}
}

func withGPUs(with []any, gpus int) []any {
	if gpus > 0 {
		with = append(with, map[string]any{"type": "gpu", "count": gpus})
	}
	return with
}

// mergeMap merges b into a (maps of maps), for building nested JSON.
func mergeMap(a any, b map[string]any) map[string]any {
	am, _ := a.(map[string]any)
	if am == nil {
		return b
	}
	for k, v := range b {
		if sub, ok := v.(map[string]any); ok {
			am[k] = mergeMap(am[k], sub)
			continue
		}
		am[k] = v
	}
	return am
}
