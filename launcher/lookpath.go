package launcher

import (
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// defaultPath is searched when neither the job nor the launcher has a PATH,
// as a shell would.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// pathCacheSize bounds the lookup cache. A task farm runs the same few
// programs over and over, and stat-ing every PATH entry per task costs more
// than the rest of the launch bookkeeping.
const pathCacheSize = 256

type pathKey struct{ path, name string }

// pathCache maps (PATH value, name) to the resolved file. Only hits in
// absolute PATH directories are cached (a relative one depends on the cwd),
// and misses are never cached, so a program installed by an earlier task is
// found by a later one. An entry that turns out stale (exec says ENOENT) is
// dropped by the caller.
var pathCache struct {
	mu sync.Mutex // guards m
	m  map[pathKey]string
}

// lookPath resolves name against pathEnv the way a shell does. status is 0 on
// success, else 127 (not found) or 126 (found, but no match is executable).
func lookPath(name, pathEnv, cwd string) (file string, status int) {
	if pathEnv == "" {
		pathEnv = defaultPath
	}
	key := pathKey{pathEnv, name}
	pathCache.mu.Lock()
	file, ok := pathCache.m[key]
	pathCache.mu.Unlock()
	if ok {
		return file, 0
	}
	status = 127
	for dir := range strings.SplitSeq(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		cand := dir + "/" + name
		statPath := cand
		if !filepath.IsAbs(dir) && cwd != "" {
			// The child resolves cand after chdir(cwd); check the same file.
			statPath = filepath.Join(cwd, cand)
		}
		var st syscall.Stat_t
		if syscall.Stat(statPath, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			continue
		}
		if st.Mode&0o111 == 0 {
			status = 126 // keep looking: a later entry may be executable
			continue
		}
		if filepath.IsAbs(dir) {
			cachePath(key, cand)
		}
		return cand, 0
	}
	return "", status
}

func cachePath(key pathKey, file string) {
	pathCache.mu.Lock()
	defer pathCache.mu.Unlock()
	if pathCache.m == nil {
		pathCache.m = make(map[pathKey]string)
	}
	if len(pathCache.m) >= pathCacheSize {
		for k := range pathCache.m { // evict an arbitrary entry
			delete(pathCache.m, k)
			break
		}
	}
	pathCache.m[key] = file
}

func forgetPath(pathEnv, name string) {
	if pathEnv == "" {
		pathEnv = defaultPath
	}
	pathCache.mu.Lock()
	delete(pathCache.m, pathKey{pathEnv, name})
	pathCache.mu.Unlock()
}
