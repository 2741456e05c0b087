// Package commands holds the command-line interface: one thin urfave/cli
// command per file over the package APIs (broker, capacitor, overlay,
// resources). main.go picks the command from argv[0] (flux-capacitor) or the
// first argument (flux capacitor), as Flux does with flux-<cmd> executables.
//
// The commands a Flux user already knows (submit, run, bulksubmit, jobs, job,
// cancel, resource, uptime, dmesg, overlay, getattr, lsattr) follow
// flux-core's man pages: options, output formats, exit codes. Pure parts
// are split from the shells so tests pin them with golden files under
// testdata/: the flux jobs format language (jobsformat.go) and its fields
// (jobsfields.go), the listings of resource.go and instinfo.go, the
// bulksubmit templates. Job ids print and parse through internal/jobid.
package commands
