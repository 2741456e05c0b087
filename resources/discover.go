package resources

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// This file is the only I/O in the package.

// Discover returns the resources of this process as a one-rank Set (rank 0):
// the short host name, the cores of the process's CPU affinity mask (so a
// cpuset, cgroup, taskset or Slurm binding is honoured: we never use cores we
// were not given), and the GPUs from DiscoverGPUs.
func Discover() (Set, error) {
	host, err := os.Hostname()
	if err != nil {
		return Set{}, fmt.Errorf("discovering resources: cannot read the host name: %w", err)
	}
	host, _, _ = strings.Cut(host, ".")
	cores, err := affinityCores()
	if err != nil {
		return Set{}, err
	}
	gpus := DiscoverGPUs(lookupEnv, "/dev")
	return Set{Ranks: []Rank{{Rank: 0, Host: host, Cores: cores, GPUs: gpus}}}, nil
}

// lookupEnv is os.Getenv, except that a variable set to "" reads as "-1":
// CUDA_VISIBLE_DEVICES="" means "no GPUs", which a getenv-style function
// otherwise cannot tell from "unset".
func lookupEnv(key string) string {
	v, ok := os.LookupEnv(key)
	if ok && strings.TrimSpace(v) == "" {
		return "-1"
	}
	return v
}

// affinityCores reads the affinity mask of the process's main thread (pid,
// not 0: a Go thread that locked itself and changed its own mask must not
// change what the instance owns). The mask buffer grows until the kernel
// accepts it, for machines with more than 1024 CPUs.
func affinityCores() (IDSet, error) {
	pid := os.Getpid()
	for size := 1024; size <= MaxID+1; size *= 2 {
		mask := unix.NewCPUSet(size)
		err := unix.SchedGetaffinityDynamic(pid, mask)
		if errors.Is(err, unix.EINVAL) {
			continue
		}
		if err != nil {
			return IDSet{}, fmt.Errorf("discovering resources: cannot read the CPU affinity mask: %w", err)
		}
		var ids []int
		for cpu := 0; cpu < size; cpu++ {
			if mask.IsSet(cpu) {
				ids = append(ids, cpu)
			}
		}
		if len(ids) == 0 {
			return IDSet{}, errors.New("discovering resources: the CPU affinity mask is empty")
		}
		return NewIDSet(ids...), nil
	}
	return IDSet{}, fmt.Errorf("discovering resources: the CPU affinity mask is larger than %d CPUs", MaxID+1)
}

// DiscoverGPUs returns the GPU ids this process may use:
//
//   - CUDA_VISIBLE_DEVICES if set: numeric entries are the ids ("0,2");
//     "-1" or "NoDevFiles" (what Slurm and SGE set) mean none; UUID entries
//     ("GPU-…", "MIG-…") count by position, so n entries are ids 0..n-1. Like
//     CUDA, the list ends at the first entry it cannot read.
//   - else ROCR_VISIBLE_DEVICES, read the same way;
//   - else the devDir/nvidiaN device files (ids N).
//
// getenv returning "" means unset (Discover maps set-but-empty to "-1").
func DiscoverGPUs(getenv func(string) string, devDir string) IDSet {
	for _, key := range []string{"CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"} {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return parseVisibleDevices(v)
		}
	}
	return nvidiaDevices(devDir)
}

func parseVisibleDevices(v string) IDSet {
	var ids []int
	uuids := false
	for e := range strings.SplitSeq(v, ",") {
		e = strings.TrimSpace(e)
		if strings.HasPrefix(e, "GPU-") || strings.HasPrefix(e, "MIG-") {
			uuids = true
			ids = append(ids, len(ids))
			continue
		}
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 || n > MaxID || strings.HasPrefix(e, "+") {
			break // "-1", "NoDevFiles", garbage: CUDA stops here
		}
		ids = append(ids, n)
	}
	if uuids {
		return RangeIDSet(0, len(ids)-1)
	}
	return NewIDSet(ids...)
}

func nvidiaDevices(devDir string) IDSet {
	entries, err := os.ReadDir(devDir)
	if err != nil {
		return IDSet{} // no device directory: no GPUs we can see
	}
	var ids []int
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name(), "nvidia")
		if !ok || num == "" || strings.Trim(num, "0123456789") != "" {
			continue // nvidiactl, nvidia-uvm, ...
		}
		if n, err := strconv.Atoi(num); err == nil && n <= MaxID {
			ids = append(ids, n)
		}
	}
	return NewIDSet(ids...)
}
