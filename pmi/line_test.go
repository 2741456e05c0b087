package pmi

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		in   string
		want Line
	}{
		{"cmd=init pmi_version=1 pmi_subversion=1", Line{"cmd": "init", "pmi_version": "1", "pmi_subversion": "1"}},
		{"cmd=get_maxes", Line{"cmd": "get_maxes"}},
		// value runs to the end of the line, '=' and spaces included
		{"cmd=put kvsname=k key=-allgather-shm-1-0 value=segments=2", Line{"cmd": "put", "kvsname": "k", "key": "-allgather-shm-1-0", "value": "segments=2"}},
		{"cmd=put kvsname=k key=a value=x y=z  w", Line{"cmd": "put", "kvsname": "k", "key": "a", "value": "x y=z  w"}},
		{"cmd=put kvsname=k key=a value=", Line{"cmd": "put", "kvsname": "k", "key": "a", "value": ""}},
		{"cmd=put key=hostname[0] kvsname=k value=vm", Line{"cmd": "put", "kvsname": "k", "key": "hostname[0]", "value": "vm"}},
		{"cmd=get kvsname=k key=-allgather-shm-1-0-seg-1/2", Line{"cmd": "get", "kvsname": "k", "key": "-allgather-shm-1-0-seg-1/2"}},
		// hydra's order (rc last), ours, and Slurm's (rc first, no msg)
		{"cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0", Line{"cmd": "response_to_init", "pmi_version": "1", "pmi_subversion": "1", "rc": "0"}},
		{"cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1", Line{"cmd": "response_to_init", "pmi_version": "1", "pmi_subversion": "1", "rc": "0"}},
		{"cmd=get_result rc=0 msg=success value=(vector,(0,1,2))", Line{"cmd": "get_result", "rc": "0", "msg": "success", "value": "(vector,(0,1,2))"}},
		{"cmd=get_result rc=0 value=(vector,(0,2,1))", Line{"cmd": "get_result", "rc": "0", "value": "(vector,(0,2,1))"}},
		{"cmd=get_result rc=1", Line{"cmd": "get_result", "rc": "1"}},
		{"cmd=appnum rc=0 appnum=-1", Line{"cmd": "appnum", "rc": "0", "appnum": "-1"}},
		{"cmd=my_kvsname rc=0 kvsname=21.0", Line{"cmd": "my_kvsname", "rc": "0", "kvsname": "21.0"}},
		{"cmd=get_result rc=-1 msg=key_no-such-key_not_found value=unknown", Line{"cmd": "get_result", "rc": "-1", "msg": "key_no-such-key_not_found", "value": "unknown"}},
		// hydra's trailing found=
		{"cmd=get_result rc=0 msg=success value=tcp://h:1 found=TRUE", Line{"cmd": "get_result", "rc": "0", "msg": "success", "value": "tcp://h:1", "found": "TRUE"}},
		{"cmd=get_result rc=-1 msg=key_x_not_found value=unknown found=FALSE", Line{"cmd": "get_result", "rc": "-1", "msg": "key_x_not_found", "value": "unknown", "found": "FALSE"}},
		{"cmd=get_result rc=0 value= found=TRUE", Line{"cmd": "get_result", "rc": "0", "value": "", "found": "TRUE"}},
		// msg as an RFC 13 string (flux-core: "command not implemented")
		{"cmd=publish_result rc=-1 msg=command not implemented", Line{"cmd": "publish_result", "rc": "-1", "msg": "command not implemented"}},
		// extra white space, cmd not first, more keys
		{"  rc=0\tcmd=barrier_out   extra=1 ", Line{"cmd": "barrier_out", "rc": "0", "extra": "1"}},
		{"cmd=set size=2", Line{"cmd": "set", "size": "2"}},
	}
	for _, c := range cases {
		got, err := ParseLine(c.in)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", c.in, err)
			continue
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("ParseLine(%q) = %v; want %v", c.in, got, c.want)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	for _, in := range []string{
		"", "   ", "get_maxes", "cmd=", "key=a value=cmd=put", "cmd=put =x", "cmd=get key",
		"mcmd=spawn", "endcmd", "cmd=get rc=0 stray",
	} {
		if l, err := ParseLine(in); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseLine(%q) = %v, %v; want an ErrMalformed error", in, l, err)
		}
	}
}

func TestFormatLine(t *testing.T) {
	cases := []struct {
		cmd  string
		kv   []string
		want string
	}{
		{"barrier_out", nil, "cmd=barrier_out\n"},
		{"response_to_init", []string{"pmi_version", "1", "pmi_subversion", "1", "rc", "0"}, "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n"},
		{"get_result", []string{"value", "a b=c", "rc", "0", "msg", "success"}, "cmd=get_result rc=0 msg=success value=a b=c\n"},
		{"put", []string{"kvsname", "k", "key", "x", "value", ""}, "cmd=put kvsname=k key=x value=\n"},
		{"maxes", []string{"kvsname_max", "256", "keylen_max", "64", "vallen_max", "1024"}, "cmd=maxes kvsname_max=256 keylen_max=64 vallen_max=1024\n"},
	}
	for _, c := range cases {
		if got := FormatLine(c.cmd, c.kv...); got != c.want {
			t.Errorf("FormatLine(%q, %q) = %q; want %q", c.cmd, c.kv, got, c.want)
		}
		l, err := ParseLine(strings.TrimSuffix(c.want, "\n"))
		if err != nil || l.Cmd() != c.cmd {
			t.Errorf("ParseLine(FormatLine(%q)) = %v, %v", c.cmd, l, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("FormatLine with an odd kv did not panic")
		}
	}()
	FormatLine("x", "lonely")
}

// formatParsed turns a parsed Line back into a wire line.
func formatParsed(l Line) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if k != "cmd" {
			kv = append(kv, k, l[k])
		}
	}
	return FormatLine(l.Cmd(), kv...)
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"cmd=init pmi_version=1 pmi_subversion=1",
		"cmd=put kvsname=kvs_probe_20568_0 key=-bcast-1-0 value=2F6465762F73686D2F6D706963685F73",
		"cmd=put kvsname=k key=-allgather-shm-1-0 value=segments=2",
		"cmd=get kvsname=k key=-allgather-shm-1-0-seg-1/2",
		"cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1",
		"cmd=get_result rc=-1 msg=key_PMI_process_mapping_not_found value=unknown",
		"cmd=get_result rc=0 msg=success value=x found=TRUE",
		"cmd=get_result rc=1",
		"cmd=publish_result rc=-1 msg=command not implemented",
		"cmd=abort exitcode=7",
		"cmd=initack pmiid=0",
		"mcmd=spawn",
		"cmd=x value=a found=FALSE found=TRUE",
		"\tcmd=a  b=c\t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLine(s)
		if err != nil {
			return
		}
		if l.Cmd() == "" {
			t.Fatalf("ParseLine(%q) accepted a line without cmd: %v", s, l)
		}
		out := formatParsed(l)
		l2, err := ParseLine(strings.TrimSuffix(out, "\n"))
		if err != nil {
			t.Fatalf("ParseLine(%q) = %v; its FormatLine %q does not parse: %v", s, l, out, err)
		}
		if !maps.Equal(l, l2) {
			t.Fatalf("round trip of %q: %v -> %q -> %v", s, l, out, l2)
		}
	})
}

func TestProcessMapping(t *testing.T) {
	cases := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, ""},
		{[]int{4}, "(vector,(0,1,4))"},
		{[]int{4, 4}, "(vector,(0,2,4))"},
		{[]int{2, 2}, "(vector,(0,2,2))"},
		{[]int{3, 1}, "(vector,(0,1,3),(1,1,1))"},
		{[]int{2, 2, 4, 4}, "(vector,(0,2,2),(2,2,4))"},
		{[]int{1, 1, 1}, "(vector,(0,3,1))"},
		{[]int{2, 0, 2}, "(vector,(0,2,2))"},
		{[]int{2, 0, 3}, "(vector,(0,1,2),(1,1,3))"},
	}
	for _, c := range cases {
		if got := ProcessMapping(c.in); got != c.want {
			t.Errorf("ProcessMapping(%v) = %q; want %q", c.in, got, c.want)
		}
	}
}
