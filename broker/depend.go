package broker

import (
	"fmt"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strconv"
	"strings"
)

// Dependency types, as Flux RFC 26 names them.
const (
	DepAfter      = "after"      // the target has started
	DepAfterAny   = "afterany"   // the target has ended, however
	DepAfterOK    = "afterok"    // the target has ended with status 0
	DepAfterNotOK = "afternotok" // the target has ended otherwise (failed, canceled, never ran)
)

var depTypes = []string{DepAfter, DepAfterAny, DepAfterOK, DepAfterNotOK}

// Dependency is one parsed --dependency: the job waits until its target
// reaches the state Type names, and ends without running when the target
// can no longer reach it.
type Dependency struct {
	Type string
	ID   uint64 // the target job, or 0 with Line
	Line int    // a command file's line (TYPE:line:N), resolved by the capacitor
}

func (d Dependency) String() string {
	if d.Line > 0 {
		return d.Type + ":line:" + strconv.Itoa(d.Line)
	}
	return d.Type + ":" + jobid.String(d.ID)
}

// ParseDependency reads one dependency in Flux's syntax (RFC 26's
// shorthand, TYPE:VALUE): afterok:ID, afterany:ID, afternotok:ID or
// after:ID, where ID is a job id. A command file's line may also name an
// earlier line of the same file: afterok:line:12. Errors say what is wrong
// and what is valid; the caller adds the option's name. IDs are read by
// ParseDepJobID (decimal, as the broker's wire carries them).
func ParseDependency(s string) (Dependency, error) { return ParseDependencyWith(s, ParseDepJobID) }

// ParseDependencyWith is ParseDependency with the job id read by parseID:
// the command line passes client.ParseJobID, which takes every encoding
// Flux prints (f58 included); Dependency.String then spells it in decimal
// for the broker. (The broker cannot import client, which imports it.)
func ParseDependencyWith(s string, parseID func(string) (uint64, error)) (Dependency, error) {
	typ, val, ok := strings.Cut(s, ":")
	if !ok || typ == "" || val == "" {
		return Dependency{}, fmt.Errorf("%q: want TYPE:ID, such as afterok:123 (types: %s)", s, strings.Join(depTypes, ", "))
	}
	known := false
	for _, t := range depTypes {
		known = known || t == typ
	}
	if !known {
		return Dependency{}, fmt.Errorf("%q: unknown dependency type %q; valid: %s", s, typ, strings.Join(depTypes, ", "))
	}
	if n, ok := strings.CutPrefix(val, "line:"); ok {
		line, err := strconv.Atoi(n)
		if err != nil || line < 1 {
			return Dependency{}, fmt.Errorf("%q: want a line number of 1 or more after line:, as in %s:line:12", s, typ)
		}
		return Dependency{Type: typ, Line: line}, nil
	}
	id, err := parseID(val)
	if err == nil && id == 0 {
		err = fmt.Errorf("%q is not a job id (flux submit and flux jobs print them)", val)
	}
	if err != nil {
		return Dependency{}, fmt.Errorf("%q: %v", s, err)
	}
	return Dependency{Type: typ, ID: id}, nil
}

// ParseDepJobID reads the job id of a dependency. It is the one place that
// does, so that other encodings of Flux job ids (f58, hex) can be accepted
// here alone; today it takes the decimal ids flux submit prints.
func ParseDepJobID(s string) (uint64, error) {
	id, err := jobid.Parse(s)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%q is not a job id (flux submit and flux jobs print them)", s)
	}
	return id, nil
}

// depVerdict is what a dependency says now.
type depVerdict uint8

const (
	depWait  depVerdict = iota // the target may still reach the state
	depMet                     // it has
	depNever                   // it never will
)

// depCheck judges dependency type typ against its target: started says
// whether it has started, ended whether it has ended, ok whether it ended
// with status 0 (after running).
func depCheck(typ string, started, ended, ok bool) depVerdict {
	switch typ {
	case DepAfter:
		switch {
		case started:
			return depMet
		case ended:
			return depNever // it ended without starting
		}
	case DepAfterAny:
		if ended {
			return depMet
		}
	case DepAfterOK:
		switch {
		case ended && ok:
			return depMet
		case ended:
			return depNever
		}
	case DepAfterNotOK:
		switch {
		case ended && !ok:
			return depMet
		case ended:
			return depNever
		}
	}
	return depWait
}

// DepCheck is depCheck for the capacitor, which resolves line dependencies
// itself: met reports that the dependency holds, never that it cannot.
func DepCheck(typ string, started, ended, ok bool) (met, never bool) {
	v := depCheck(typ, started, ended, ok)
	return v == depMet, v == depNever
}
