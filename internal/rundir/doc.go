// Package rundir is the per-user directory of running instances on this
// node, so that a farm started in one shell (or under sbatch) can be found
// from another without knowing its socket: flux uri, flux jobs and flux top
// read it.
//
// Every flux-capacitor, flux-hierarchy and flux start writes one small JSON
// file named by its pid into $XDG_RUNTIME_DIR/flux (else $TMPDIR/flux-UID),
// a 0700 directory that must belong to the user; it names the instance's
// URI, what runs there, the parent instance and the job id there (for a
// child instance of a hierarchy, so that flux top can descend into it), and
// for a capacitor its progress, rewritten about once a second. The file is
// removed when the process ends; a file whose process is gone (a crash) is
// skipped and removed by the next reader.
package rundir
