package commands

import (
	"reflect"
	"testing"

	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/urfave/cli/v2"
)

// TestOptionFlagsFromTable: each per-job option of capacitor.JobOptions is
// a flag of the commands its scope names, spelled and typed as the table
// says, and the argument normaliser knows whether it takes a value.
func TestOptionFlagsFromTable(t *testing.T) {
	byName := func(flags []cli.Flag) map[string]cli.Flag {
		m := map[string]cli.Flag{}
		for _, f := range flags {
			m[f.Names()[0]] = f
		}
		return m
	}
	job, submit := byName(jobFlags()), byName(submitFlags())
	for _, o := range capacitor.JobOptions {
		inJob, inSubmit := job[o.Name], submit[o.Name]
		if (inJob != nil) != (o.Scope&capacitor.OnJobFlags != 0) {
			t.Errorf("--%s: among the job flags %v, scope %b", o.Name, inJob != nil, o.Scope)
		}
		if (inSubmit != nil) != (o.Scope&(capacitor.OnJobFlags|capacitor.OnSubmitFlags) != 0) {
			t.Errorf("--%s: among the submit flags %v, scope %b", o.Name, inSubmit != nil, o.Scope)
		}
		if inSubmit == nil {
			continue
		}
		want := []string{o.Name}
		if o.Short != "" {
			want = append(want, o.Short)
		}
		if got := inSubmit.Names(); !reflect.DeepEqual(got, want) {
			t.Errorf("--%s: spelled %q, want %q", o.Name, got, want)
		}
		var ok bool
		switch o.Value {
		case capacitor.Switch:
			_, ok = inSubmit.(*cli.BoolFlag)
		case capacitor.Count:
			_, ok = inSubmit.(*cli.IntFlag)
		case capacitor.Text:
			_, ok = inSubmit.(*cli.StringFlag)
		case capacitor.List:
			_, ok = inSubmit.(*cli.StringSliceFlag)
		}
		if !ok {
			t.Errorf("--%s: a %T for value kind %d", o.Name, inSubmit, o.Value)
		}
	}
	for _, o := range capacitor.JobOptions {
		for _, s := range []string{o.Name, o.Short} {
			if s != "" && valueFlags[s] != (o.Value != capacitor.Switch) {
				t.Errorf("valueFlags[%q] = %v for value kind %d", s, valueFlags[s], o.Value)
			}
		}
	}
}
