package overlay

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// KeySize is the length of an instance key in bytes.
const KeySize = 32

// Key is an instance key: 32 random bytes made when an instance boots and
// handed to its brokers only through a mode-0600 file (Save, LoadKey) or the
// bootstrap channel, never on a command line or in the environment. Every
// broker link proves knowledge of it before anything else is read
// (PROTOCOL.md, "Broker links").
//
// A Key never prints itself: every fmt verb, %#v included, and slog show
// "overlay.Key(<redacted>)".
type Key [KeySize]byte

const redactedKey = "overlay.Key(<redacted>)"

// NewKey returns a fresh random key from crypto/rand.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("overlay: making an instance key: %w", err)
	}
	return k, nil
}

// Save writes the key's 32 raw bytes to a new file at path with mode 0600.
// It refuses to overwrite: an existing file is an error, so a second
// instance cannot silently replace the key of a running one.
func (k Key) Save(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("overlay: key file %s already exists; remove it or choose another path", path)
		}
		return fmt.Errorf("overlay: saving the instance key: %w", err)
	}
	// The umask can only clear bits, but make the mode exact anyway.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("overlay: saving the instance key: %w", err)
	}
	if _, err := f.Write(k[:]); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("overlay: saving the instance key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("overlay: saving the instance key: %w", err)
	}
	return nil
}

// LoadKey reads a key written by Save. It refuses a file that group or
// others may access, or that is not a regular file of exactly 32 bytes. The
// mode is checked on the opened file, so the file cannot be swapped between
// the check and the read.
func LoadKey(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("overlay: reading the instance key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("overlay: reading the instance key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Key{}, fmt.Errorf("overlay: key file %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return Key{}, fmt.Errorf("overlay: key file %s has mode %04o; it must be 0600 (chmod 600 %s)", path, perm, path)
	}
	var k Key
	// Read one byte more than a key, so a longer file is caught without
	// trusting the size from Stat.
	buf := make([]byte, KeySize+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Key{}, fmt.Errorf("overlay: reading the instance key: %w", err)
	}
	if n != KeySize {
		size := fmt.Sprintf("%d bytes", n)
		if n > KeySize {
			size = "more than 32 bytes"
		}
		return Key{}, fmt.Errorf("overlay: key file %s holds %s, an instance key is exactly %d; is it the right file?", path, size, KeySize)
	}
	copy(k[:], buf)
	clear(buf)
	return k, nil
}

// String never shows the key.
func (k Key) String() string { return redactedKey }

// Format makes every fmt verb (%x, %d, %#v, ...) print the redacted form,
// not only those that call String.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, redactedKey) }

// LogValue keeps the key out of structured logs.
func (k Key) LogValue() slog.Value { return slog.StringValue(redactedKey) }
