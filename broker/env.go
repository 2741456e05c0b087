package broker

import "path"

// mergeEnv returns base with extra applied in order: an entry replaces one
// of the same name, and an entry "-PATTERN" (flux submit --env=-PATTERN or
// --env-remove) removes every name so far that matches the glob PATTERN, as
// Flux applies its environment rules in order. The common case, no extra,
// shares base without copying.
func mergeEnv(base, extra []string) []string {
	if len(extra) == 0 {
		return base
	}
	removes := false
	for _, kv := range extra {
		removes = removes || isRemoval(kv)
	}
	if !removes {
		out := make([]string, 0, len(base)+len(extra))
		if len(extra) <= 4 { // the usual few: no map
		next:
			for _, kv := range base {
				name := envName(kv)
				for _, e := range extra {
					if envName(e) == name {
						continue next
					}
				}
				out = append(out, kv)
			}
			return append(out, extra...)
		}
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
	out := append(make([]string, 0, len(base)+len(extra)), base...)
	for _, kv := range extra {
		kept := out[:0]
		if isRemoval(kv) {
			for _, have := range out {
				if ok, _ := path.Match(kv[1:], envName(have)); !ok {
					kept = append(kept, have)
				}
			}
			out = kept
			continue
		}
		name := envName(kv)
		for _, have := range out {
			if envName(have) != name {
				kept = append(kept, have)
			}
		}
		out = append(kept, kv)
	}
	return out
}

func isRemoval(kv string) bool { return len(kv) > 1 && kv[0] == '-' }

func envName(kv string) string {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i]
		}
	}
	return kv
}
