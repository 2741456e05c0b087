package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// OpenMPI's shared-memory transport (btl vader) names its segment files by
// host, job id and local rank. Two brokers of one instance on one host
// (--test-size, or several brokers per node) would give their local rank 0
// the same file and crash each other, and OpenMPI reads the job id from
// FLUX_JOB_ID as a decimal number, which Flux's f58 ids are not, so two
// jobs on one broker could collide too. Flux gives every job part a
// directory of its own and points OMPI_MCA_btl_vader_backing_directory at
// it; so do we, for parts that get PMI, in /dev/shm where the segments live
// by default (os.TempDir when there is none). The directory goes when the
// part ends.

// shmRoot is where part directories are made (looked up once).
var shmRoot = sync.OnceValue(func() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
})

// partTmp makes job's directory on this broker and returns the variable
// that points OpenMPI at it (nil when it cannot be made: OpenMPI then uses
// its default, which is right whenever brokers do not share a host).
func (b *Broker) partTmp(job uint64) []string {
	dir := filepath.Join(shmRoot(), fmt.Sprintf("flux-%d-%d-%d", os.Getpid(), b.cfg.Rank, job))
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		b.cfg.Logf("broker: job %d: cannot make its shared-memory directory: %v", job, err)
		return nil
	}
	b.tmpdirs[job] = dir
	return []string{"OMPI_MCA_btl_vader_backing_directory=" + dir}
}

// dropTmp removes job's directory: empty (OpenMPI removes its segments at
// MPI_Finalize) or holding what a crashed rank left. On the loop, so that
// the last part's directory is gone before the broker exits; it is a
// rmdir, or a few unlinks.
func (b *Broker) dropTmp(job uint64) {
	if dir, ok := b.tmpdirs[job]; ok {
		delete(b.tmpdirs, job)
		if os.Remove(dir) != nil {
			os.RemoveAll(dir)
		}
	}
}
