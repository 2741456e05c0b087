package overlay

import (
	"syscall"
	"testing"
)

// TestConstantsFrozen pins every number that is on the wire. If this fails you
// changed the protocol: bump ProtocolVersion, record it in PROTOCOL.md, and
// never reuse a retired value.
func TestConstantsFrozen(t *testing.T) {
	pins := []struct {
		name      string
		got, want int64
	}{
		{"ProtocolVersion", ProtocolVersion, 1},
		{"Request", int64(Request), 1},
		{"Response", int64(Response), 2},
		{"Event", int64(Event), 4},
		{"FlagStreaming", int64(FlagStreaming), 1},
		{"FlagNoResponse", int64(FlagNoResponse), 2},
		{"FlagMore", int64(FlagMore), 4},
		{"MaxFrame", MaxFrame, 16 << 20},
		{"frameHeader", frameHeader, 4},
		{"AnyRank", AnyRank, -1},
		{"sendQueueLen", sendQueueLen, 1024},
		// errnum values as PROTOCOL.md lists them (Linux numbering).
		{"EPERM", int64(syscall.EPERM), 1},
		{"ENOENT", int64(syscall.ENOENT), 2},
		{"EAGAIN", int64(syscall.EAGAIN), 11},
		{"EINVAL", int64(syscall.EINVAL), 22},
		{"ENOSYS", int64(syscall.ENOSYS), 38},
		{"ENODATA", int64(syscall.ENODATA), 61},
		{"EPROTO", int64(syscall.EPROTO), 71},
		{"EHOSTUNREACH", int64(syscall.EHOSTUNREACH), 113},
	}
	for _, p := range pins {
		if p.got != p.want {
			t.Errorf("%s = %d, frozen at %d", p.name, p.got, p.want)
		}
	}
	keys := []struct{ got, want string }{
		{keyDst, "dst"}, {keyErrnum, "errnum"}, {keyErrstr, "errstr"}, {keyFlags, "flags"},
		{keyPayload, "payload"}, {keySrc, "src"}, {keyTag, "tag"}, {keyTopic, "topic"}, {keyType, "type"},
	}
	for i, k := range keys {
		if k.got != k.want {
			t.Errorf("envelope key %q changed to %q", k.want, k.got)
		}
		if i > 0 && keys[i-1].got >= k.got {
			t.Errorf("envelope keys must be written in sorted order: %q before %q", keys[i-1].got, k.got)
		}
	}
}
