package overlay

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewKeyDistinct(t *testing.T) {
	a, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewKey()
	if a == b || a == (Key{}) {
		t.Fatalf("NewKey returned equal or zero keys")
	}
}

func TestKeySaveLoad(t *testing.T) {
	k, _ := NewKey()
	path := filepath.Join(t.TempDir(), "key")
	if err := k.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != KeySize {
		t.Fatalf("saved key file has mode %v size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), KeySize)
	}
	got, err := LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != k {
		t.Fatal("loaded key differs from saved key")
	}
	// O_EXCL: never overwrite a key.
	if err := k.Save(path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second Save: %v, want an 'already exists' error", err)
	}
}

func TestLoadKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	k, _ := NewKey()

	loose := filepath.Join(dir, "loose")
	if err := k.Save(loose); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKey(loose)
	want := fmt.Sprintf("key file %s has mode 0644; it must be 0600 (chmod 600 %s)", loose, loose)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("LoadKey(0644) = %v, want %q", err, want)
	}
	os.Chmod(loose, 0o640)
	if _, err := LoadKey(loose); err == nil || !strings.Contains(err.Error(), "mode 0640") {
		t.Fatalf("LoadKey(0640) = %v", err)
	}
	os.Chmod(loose, 0o400) // read-only for the owner is fine
	if _, err := LoadKey(loose); err != nil {
		t.Fatalf("LoadKey(0400) = %v", err)
	}

	for _, n := range []int{0, 31, 33, 64} {
		p := filepath.Join(dir, fmt.Sprintf("size%d", n))
		if err := os.WriteFile(p, make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKey(p); err == nil || !strings.Contains(err.Error(), "exactly 32") {
			t.Errorf("LoadKey of %d bytes = %v, want a size error", n, err)
		}
	}
	if _, err := LoadKey(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadKey(directory) = %v", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadKey(missing) succeeded")
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k, _ := NewKey()
	secret := hex.EncodeToString(k[:])
	cfg := LinkConfig{Key: k, Session: "s"}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("boot", "key", k)
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("boot", "key", k)
	outs := []string{
		k.String(),
		fmt.Sprint(k), fmt.Sprintf("%s %v %+v %#v %x %X %d %q", k, k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v", cfg, cfg), fmt.Sprintf("%v", &k),
		sb.String(),
	}
	for _, s := range outs {
		if strings.Contains(strings.ToLower(s), secret[:16]) || strings.Contains(s, fmt.Sprint(k[0], " ", k[1], " ", k[2])) {
			t.Errorf("key leaked: %s", s)
		}
		if !strings.Contains(s, "overlay.Key(<redacted>)") {
			t.Errorf("output without the redacted marker: %s", s)
		}
	}
}
