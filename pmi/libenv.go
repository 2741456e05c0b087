package pmi

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// LibName is the PMI-1 library's file name in the library directory; the
// PMI-2 one is libpmi2.so beside it (both built by pmi/libpmi/build.sh).
const LibName = "libpmi.so"

// libDir is found once per process.
var libDir struct {
	once sync.Once
	dir  string
}

// LibraryDir is the directory holding our libpmi.so: lib/flux beside the
// directory of the running binary (bin/flux -> bin/../lib/flux, as
// scripts/build lays them out, and /usr/bin/flux -> /usr/lib/flux for an
// install), or "" when the library is not there (a plain `go build`).
func LibraryDir() string {
	libDir.once.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		libDir.dir = libraryDirFor(exe)
	})
	return libDir.dir
}

// libraryDirFor is LibraryDir for the binary at exe.
func libraryDirFor(exe string) string {
	dir := filepath.Join(filepath.Dir(filepath.Dir(exe)), "lib", "flux")
	if st, err := os.Stat(filepath.Join(dir, LibName)); err != nil || st.IsDir() {
		return ""
	}
	return dir
}

// LibraryEnv returns the variables that point a task with PMI at our PMI
// library in dir, as Flux does for its tasks, given the task's environment
// env: FLUX_PMI_LIBRARY_PATH (which OpenMPI's flux component dlopens when
// FLUX_JOB_ID is set), LD_LIBRARY_PATH with dir first (for MPIs linked
// against libpmi.so.0 or libpmi2.so.0), and I_MPI_PMI_LIBRARY when env sets
// it (Intel MPI then loads ours instead). dir "" gives nil.
func LibraryEnv(env []string, dir string) []string {
	if dir == "" {
		return nil
	}
	lib := filepath.Join(dir, LibName)
	ld, impi := "", false
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "LD_LIBRARY_PATH="):
			ld = kv[len("LD_LIBRARY_PATH="):]
		case strings.HasPrefix(kv, "I_MPI_PMI_LIBRARY="):
			impi = true
		}
	}
	out := []string{"FLUX_PMI_LIBRARY_PATH=" + lib}
	switch {
	case ld == "" || ld == dir:
		out = append(out, "LD_LIBRARY_PATH="+dir)
	case strings.HasPrefix(ld, dir+":"):
		out = append(out, "LD_LIBRARY_PATH="+ld) // already first (a nested instance)
	default:
		out = append(out, "LD_LIBRARY_PATH="+dir+":"+ld)
	}
	if impi {
		out = append(out, "I_MPI_PMI_LIBRARY="+lib)
	}
	return out
}
