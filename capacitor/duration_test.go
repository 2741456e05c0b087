package capacitor

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30s", 30 * time.Second, ""},
		{"2m", 2 * time.Minute, ""},
		{"1h", time.Hour, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"2d", 48 * time.Hour, ""},
		{"90", 90 * time.Minute, ""}, // a bare number is minutes, as in flux submit -t
		{"0.5", 30 * time.Second, ""},
		{".5s", 500 * time.Millisecond, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"0.1s", 100 * time.Millisecond, ""},
		{"0", 0, ""},
		{"-5", -5 * time.Minute, ""}, // parses; ParseLine refuses it as not positive
		{"+5s", 5 * time.Second, ""},
		{"5x", 0, "5x: not a duration; use 30s, 2m, 1h or a number of minutes"},
		{"", 0, "not a duration"},
		{"s", 0, "not a duration"},
		{"m", 0, "not a duration"},
		{"1.2.3s", 0, "not a duration"},
		{"inf", 0, "not a duration"},
		{"1e3", 0, "not a duration"},
		{"0x10", 0, "not a duration"},
		{"1_0s", 0, "not a duration"},
		{"1h30m", 0, "not a duration"},
		{" 5s", 0, "not a duration"},
		{".", 0, "not a duration"},
		{"1000000d", 0, "too long"},
		{"99999999999999999999999h", 0, "too long"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "2m", "1h", "1.5h", "90", "0", "-1", "5x", "250ms", "1e3", "inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), s+": ") {
				t.Fatalf("%q: error %q does not name the input", s, err)
			}
			return
		}
		// Whatever parses has the shape the docs promise.
		num, _ := splitDurationUnit(s)
		if !isDecimal(num) {
			t.Fatalf("%q parsed to %v but is not a decimal with a unit", s, d)
		}
		if (d < 0) != (strings.HasPrefix(s, "-") && d != 0) {
			t.Fatalf("%q parsed to %v with the wrong sign", s, d)
		}
	})
}
