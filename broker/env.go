package broker

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
