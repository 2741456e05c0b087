package resources

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiscoverMatchesAffinity(t *testing.T) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	var want IDSet
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Cpus_allowed_list:"); ok {
			want, err = ParseIDSet(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("parsing Cpus_allowed_list %q: %v", v, err)
			}
			found = true
		}
	}
	if !found {
		t.Skip("no Cpus_allowed_list in /proc/self/status")
	}
	s, err := Discover()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Ranks) != 1 || s.Ranks[0].Rank != 0 {
		t.Fatalf("Discover() = %+v, want one rank 0", s)
	}
	if !s.Ranks[0].Cores.Equal(want) {
		t.Errorf("Discover() cores = %q, Cpus_allowed_list = %q", s.Ranks[0].Cores, want)
	}
	host, _ := os.Hostname()
	if h := s.Ranks[0].Host; h == "" || strings.Contains(h, ".") || !strings.HasPrefix(host, h) {
		t.Errorf("Discover() host = %q, want the short form of %q", h, host)
	}
}

func TestDiscoverGPUs(t *testing.T) {
	dev := t.TempDir()
	for _, name := range []string{"nvidia0", "nvidia1", "nvidia3", "nvidiactl", "nvidia-uvm", "nvidia-caps", "nvme0"} {
		if err := os.WriteFile(filepath.Join(dev, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		dir  string
		want string
	}{
		{"device files", nil, dev, "0-1,3"},
		{"no devices", nil, empty, ""},
		{"missing dir", nil, filepath.Join(empty, "nope"), ""},
		{"cuda ids", map[string]string{"CUDA_VISIBLE_DEVICES": "0,2"}, dev, "0,2"},
		{"cuda spaces", map[string]string{"CUDA_VISIBLE_DEVICES": " 1, 3 "}, dev, "1,3"},
		{"cuda none", map[string]string{"CUDA_VISIBLE_DEVICES": "-1"}, dev, ""},
		{"cuda NoDevFiles", map[string]string{"CUDA_VISIBLE_DEVICES": "NoDevFiles"}, dev, ""},
		{"cuda stops at invalid", map[string]string{"CUDA_VISIBLE_DEVICES": "0,-1,2"}, dev, "0"},
		{"cuda uuids", map[string]string{"CUDA_VISIBLE_DEVICES": "GPU-8a1b,GPU-77ff,MIG-1234"}, dev, "0-2"},
		{"cuda wins over rocr", map[string]string{"CUDA_VISIBLE_DEVICES": "1", "ROCR_VISIBLE_DEVICES": "0-3"}, dev, "1"},
		{"rocr", map[string]string{"ROCR_VISIBLE_DEVICES": "0,1,5"}, dev, "0-1,5"},
		{"rocr uuids", map[string]string{"ROCR_VISIBLE_DEVICES": "GPU-abc,GPU-def"}, empty, "0-1"},
	}
	for _, tc := range tests {
		getenv := func(k string) string { return tc.env[k] }
		if got := DiscoverGPUs(getenv, tc.dir); got.String() != tc.want {
			t.Errorf("%s: DiscoverGPUs = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLookupEnvEmptyMeansNone(t *testing.T) {
	t.Setenv("CUDA_VISIBLE_DEVICES", "")
	if got := DiscoverGPUs(lookupEnv, t.TempDir()); !got.Empty() {
		t.Errorf("CUDA_VISIBLE_DEVICES=\"\" gave GPUs %q", got)
	}
	if lookupEnv("CUDA_VISIBLE_DEVICES") != "-1" {
		t.Error("set-but-empty CUDA_VISIBLE_DEVICES does not read as none")
	}
}
