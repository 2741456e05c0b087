package boot

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseAttrs(t *testing.T) {
	a, err := ParseAttrs([]string{"boot.method=config", "boot.config_file=/a=b.conf", "tbon.fanout=2", "tbon.fanout=4", "broker.key_file="})
	if err != nil {
		t.Fatal(err)
	}
	want := Attrs{"boot.method": "config", "boot.config_file": "/a=b.conf", "tbon.fanout": "4", "broker.key_file": ""}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got %v, want %v", a, want)
	}
	if a, err := ParseAttrs(nil); err != nil || len(a) != 0 {
		t.Errorf("nil: %v %v", a, err)
	}
	for in, msg := range map[string]string{
		"tbon.fanout": `attribute "tbon.fanout" has no value; write -Stbon.fanout=VALUE`,
		"=2":          `attribute "=2" has no key; write -SKEY=VALUE`,
		" =2":         `attribute " =2" has no key`,
	} {
		if _, err := ParseAttrs([]string{"a=b", in}); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: got %v, want %s", in, err, msg)
		}
	}
}

func TestAttrsTyped(t *testing.T) {
	a := Attrs{"i": " 12", "neg": "-3", "x": "abc", "t": "Yes", "f": "off", "one": "1", "zero": "0",
		"d1": "1.5s", "d2": "250ms", "d3": "5", "d4": "0.5m", "d5": "2d", "d6": "1h", "d7": "1m30s", "bad": "5 s", "dneg": "-1s"}
	ints := []struct {
		key  string
		want int
		err  string
	}{
		{"i", 12, ""}, {"neg", -3, ""}, {"missing", 7, ""}, {"x", 0, `attribute x="abc": not an integer`},
	}
	for _, tt := range ints {
		got, err := a.Int(tt.key, 7)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("Int(%s) = %d, %v", tt.key, got, err)
		}
	}
	bools := map[string]bool{"t": true, "f": false, "one": true, "zero": false, "missing": true}
	for k, want := range bools {
		if got, err := a.Bool(k, true); got != want || err != nil {
			t.Errorf("Bool(%s) = %v, %v", k, got, err)
		}
	}
	if _, err := a.Bool("x", true); err == nil || err.Error() != `attribute x="abc": not a boolean; write true or false (also yes/no, 1/0, on/off)` {
		t.Errorf("Bool(x): %v", err)
	}
	durs := map[string]time.Duration{"d1": 1500 * time.Millisecond, "d2": 250 * time.Millisecond, "d3": 5 * time.Second,
		"d4": 30 * time.Second, "d5": 48 * time.Hour, "d6": time.Hour, "d7": 90 * time.Second, "missing": time.Minute}
	for k, want := range durs {
		if got, err := a.Duration(k, time.Minute); got != want || err != nil {
			t.Errorf("Duration(%s) = %v, %v; want %v", k, got, err, want)
		}
	}
	for k, msg := range map[string]string{
		"bad":  `attribute bad="5 s": not a duration; write e.g. 1s, 250ms, 2m or a number of seconds`,
		"x":    `attribute x="abc": not a duration`,
		"dneg": `attribute dneg="-1s": negative duration`,
	} {
		if _, err := a.Duration(k, 0); err == nil || !strings.HasPrefix(err.Error(), msg) {
			t.Errorf("Duration(%s): %v, want %s", k, err, msg)
		}
	}
	if a.String("x", "d") != "abc" || a.String("nope", "d") != "d" {
		t.Error("String")
	}
}

func TestAttrsValidate(t *testing.T) {
	good := Attrs{"boot.method": "config", "boot.config_file": "b.conf", "broker.rank": "3", "tbon.fanout": "1",
		"tbon.encrypt": "false", "tbon.heartbeat": "100ms", "broker.kill_grace": "0", "broker.key_file": "k"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Attrs{}).Validate(); err != nil {
		t.Fatal(err)
	}
	known := strings.Join(KnownKeys(), ", ")
	tests := []struct {
		a    Attrs
		want string
	}{
		{Attrs{"tbon.fanot": "2"}, `unknown attribute "tbon.fanot"; known: ` + known},
		{Attrs{"b": "", "a": "", "tbon.fanout": "2"}, `unknown attributes "a", "b"; known: boot.method, boot.config_file, broker.rank,`},
		{Attrs{"boot.method": "pmix"}, `attribute boot.method="pmix": unknown boot method; use one of single, config, pmi, slurm`},
		{Attrs{"boot.method": "config"}, `boot.method=config needs -Sboot.config_file=FILE`},
		{Attrs{"broker.rank": "-1"}, `attribute broker.rank=-1: a rank is >= 0`},
		{Attrs{"broker.rank": "one"}, `attribute broker.rank="one": not an integer`},
		{Attrs{"tbon.fanout": "0"}, `attribute tbon.fanout=0: fanout must be >= 1 (1 is a chain)`},
		{Attrs{"tbon.encrypt": "maybe"}, `attribute tbon.encrypt="maybe": not a boolean`},
		{Attrs{"tbon.heartbeat": "soon"}, `attribute tbon.heartbeat="soon": not a duration`},
		{Attrs{"tbon.heartbeat": "0s"}, `attribute tbon.heartbeat="0s": the heartbeat interval must be > 0`},
		{Attrs{"broker.kill_grace": "-5s"}, `attribute broker.kill_grace="-5s": negative duration`},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%v: got %v\nwant %s", tt.a, err, tt.want)
		}
	}
}

func TestKnownAttrsDefaults(t *testing.T) {
	// the documented defaults parse to the Default* constants
	a := Attrs{}
	for _, d := range KnownAttrs {
		if d.Usage == "" {
			t.Errorf("%s has no usage", d.Key)
		}
		if d.Default != "" {
			a[d.Key] = d.Default
		}
	}
	if err := (Attrs{"boot.method": a["boot.method"]}).Validate(); err != nil {
		t.Error(err)
	}
	if f, _ := a.Int("tbon.fanout", 0); f != DefaultFanout {
		t.Error("tbon.fanout default")
	}
	if e, _ := a.Bool("tbon.encrypt", false); e != DefaultEncrypt {
		t.Error("tbon.encrypt default")
	}
	if d, _ := a.Duration("tbon.heartbeat", 0); d != DefaultHeartbeat {
		t.Error("tbon.heartbeat default")
	}
	if d, _ := a.Duration("broker.kill_grace", 0); d != DefaultKillGrace {
		t.Error("broker.kill_grace default")
	}
}

func FuzzParseAttrs(f *testing.F) {
	f.Add("boot.method=config\x00tbon.fanout=2\x00tbon.fanout=3")
	f.Add("x\x00=y")
	f.Add("tbon.heartbeat=1e400s\x00broker.kill_grace=9223372036s")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		a, err := ParseAttrs(args)
		if err != nil {
			return
		}
		for _, arg := range args {
			if !strings.Contains(arg, "=") {
				t.Fatalf("accepted %q", arg)
			}
		}
		// the last occurrence of each key wins
		for i := len(args) - 1; i >= 0; i-- {
			k, v, _ := strings.Cut(args[i], "=")
			k = strings.TrimSpace(k)
			if k == "" {
				t.Fatalf("accepted empty key in %q", args[i])
			}
			if later := lastIndex(args, k); later == i && a[k] != v {
				t.Fatalf("%q: got %q, want %q", k, a[k], v)
			}
		}
		_ = a.Validate()
		for k := range a {
			_, _ = a.Int(k, 0)
			_, _ = a.Bool(k, false)
			if d, err := a.Duration(k, 0); err == nil && d < 0 {
				t.Fatalf("%q gave negative duration %v", a[k], d)
			}
		}
	})
}

func lastIndex(args []string, key string) int {
	for i := len(args) - 1; i >= 0; i-- {
		if k, _, _ := strings.Cut(args[i], "="); strings.TrimSpace(k) == key {
			return i
		}
	}
	return -1
}
