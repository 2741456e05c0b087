package client

import (
	"errors"
	"testing"

	"github.com/fluxtaskfarm/flux/internal/jobid"
)

func TestJobIDEncodings(t *testing.T) {
	defer func(p string) { jobid.Prefix = p }(jobid.Prefix)
	jobid.Prefix = jobid.PrefixUTF8 // as in a UTF-8 locale
	for _, tc := range []struct {
		id  JobID
		f58 string
	}{
		{0, "ƒ1"}, {1, "ƒ2"}, {12345, "ƒ4fr"}, {9344909312, "ƒFEn6y5"}, {1<<64 - 1, "ƒjpXCZedGfVQ"},
	} {
		if got := tc.id.String(); got != tc.f58 {
			t.Errorf("JobID(%d).String() = %q, want %q", uint64(tc.id), got, tc.f58)
		}
		for _, text := range []string{tc.f58, "f" + tc.f58[len("ƒ"):]} {
			if got, err := ParseJobID(text); err != nil || got != tc.id {
				t.Errorf("ParseJobID(%q) = %d, %v; want %d", text, got, err, tc.id)
			}
		}
	}
	jobid.Prefix = jobid.PrefixASCII // FLUX_F58_FORCE_ASCII or another locale
	if got := JobID(12345).String(); got != "f4fr" {
		t.Errorf("ASCII fallback: %q, want f4fr", got)
	}
}

func TestParseJobID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want JobID
		ok   bool
	}{
		{"12345", 12345, true},
		{"0x3039", 12345, true},
		{"0000.0000.0000.3039", 12345, true},
		{"job.0000.0000.0000.3039", 12345, true},
		{"ffff.ffff.ffff.ffff", 1<<64 - 1, true},
		{"ƒ4fr", 12345, true},
		{"f4fr", 12345, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"ƒjpXCZedGfVR", 0, false}, // 2^64: overflow
		{"ƒ0", 0, false},           // 0 is not in the F58 alphabet
		{"zzz", 0, false},
		{"", 0, false},
		{"ƒ", 0, false},
		{"0000.0000.3039", 0, false},
		{"-1", 0, false},
	} {
		got, err := ParseJobID(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseJobID(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadJobID) {
			t.Errorf("ParseJobID(%q): error %v is not ErrBadJobID", tc.in, err)
		}
	}
}

func FuzzParseJobID(f *testing.F) {
	for _, s := range []string{"12345", "0x3039", "0000.0000.0000.3039", "ƒ4fr", "f4fr", "job.0000.0000.0000.0001", "ƒjpXCZedGfVQ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseJobID(s)
		if err != nil {
			return
		}
		// Whatever parses round-trips through F58.
		back, err := ParseJobID(id.String())
		if err != nil || back != id {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, uint64(id), id.String(), uint64(back), err)
		}
	})
}
