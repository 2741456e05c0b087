package commands

import (
	"fmt"
	"os"
	"strings"

	"github.com/fluxtaskfarm/flux/internal/rundir"
	"github.com/fluxtaskfarm/flux/overlay"
)

// startedURI is the URI of the instance this process runs on (one it
// started, or FLUX_URI's), for the per-user run directory. Set once by
// capacitorInstance before the run starts.
var startedURI string

// registerRun enters a flux-capacitor or flux-hierarchy run into the
// per-user run directory (nil, which every method takes, when it cannot).
func registerRun(name string, args []string) *rundir.Registration {
	if startedURI == "" {
		return nil
	}
	e := rundir.Entry{URI: startedURI, Name: name, Args: shortArgs(args)}
	if os.Getenv("FLUX_URI") != "" {
		// Attached to an instance that may itself be a job of another
		// (flux submit flux start flux-capacitor ...).
		e.ParentURI, e.JobID = os.Getenv("FLUX_PARENT_URI"), os.Getenv("FLUX_JOB_ID")
	}
	reg, err := rundir.Register(e)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: not findable from other shells (flux top, flux uri): %v\n", name, err)
		return nil
	}
	return reg
}

// shortArgs is a command line, cut to fit one line of a listing.
func shortArgs(args []string) string {
	s := strings.Join(args, " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// findInstance is the instance a command means without FLUX_URI: the one
// running flux-capacitor, flux-hierarchy or flux start of this user on this
// node. Several are an error that lists them (choose chooses instead, when
// not nil).
func findInstance(cmd string, choose func([]rundir.Entry) (rundir.Entry, error)) (rundir.Entry, error) {
	all, err := rundir.List()
	if err != nil {
		return rundir.Entry{}, exitf(1, "flux %s: %v", cmd, err)
	}
	tops := rundir.Tops(all)
	switch {
	case len(tops) == 0:
		return rundir.Entry{}, exitf(2, "flux %s: no instance: FLUX_URI is not set and no flux-capacitor, flux-hierarchy "+
			"or flux start of yours is running on this node (%s)", cmd, rundir.Dir())
	case len(tops) == 1:
		return tops[0], nil
	case choose != nil:
		return choose(tops)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "flux %s: %d instances are running; pick one with FLUX_URI=$(flux uri pid:PID) flux %s, or flux %s pid:PID:", cmd, len(tops), cmd, cmd)
	for _, e := range tops {
		b.WriteString("\n  " + e.Describe())
	}
	return rundir.Entry{}, exitf(1, "%s", b.String())
}

// connectOrFind connects to FLUX_URI, else to the one running instance.
func connectOrFind(cmd string) (*overlay.Client, string, error) {
	if uri := os.Getenv("FLUX_URI"); uri != "" {
		c, err := connect(cmd)
		return c, uri, err
	}
	e, err := findInstance(cmd, nil)
	if err != nil {
		return nil, "", err
	}
	c, err := dialClient(e.URI)
	if err != nil {
		return nil, "", exitf(1, "flux %s: %s: %v", cmd, e.URI, err)
	}
	return c, e.URI, nil
}

// resolveTarget turns flux uri's and flux top's TARGET into a URI: a URI
// as it is, pid:PID (a running flux-capacitor, flux-hierarchy or flux
// start), or jobid:ID / ID (a child instance running as that job of the
// current instance).
func resolveTarget(cmd, target string) (string, error) {
	if strings.Contains(target, "://") {
		return target, nil
	}
	all, err := rundir.List()
	if err != nil {
		return "", exitf(1, "flux %s: %v", cmd, err)
	}
	if pid, ok := strings.CutPrefix(target, "pid:"); ok {
		for _, e := range all {
			if fmt.Sprint(e.PID) == pid {
				return e.URI, nil
			}
		}
		return "", exitf(1, "flux %s: %s: no instance of yours runs as pid %s on this node", cmd, target, pid)
	}
	id, ok := rundir.ParseJobID(target)
	if !ok {
		return "", exitf(2, "flux %s: %s: not a TARGET; give a URI (local://...), pid:PID or jobid:ID", cmd, target)
	}
	parent := os.Getenv("FLUX_URI")
	if parent == "" {
		e, err := findInstance(cmd, nil)
		if err != nil {
			return "", err
		}
		parent = e.URI
	}
	if e, ok := rundir.Child(all, parent, id); ok {
		return e.URI, nil
	}
	return "", exitf(1, "flux %s: %s: no child instance runs as job %d of %s on this node (targets: URI, pid:PID, jobid:ID)", cmd, target, id, parent)
}
