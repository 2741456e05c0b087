#!/usr/bin/env bash
# scripts/testbed/slurm-down.sh [--keep-munge] - stop the cluster that
# slurm-up.sh started.  Cancels the cluster's jobs (so no slurmstepd outlives
# it), then stops only the daemons whose pid files are in
# /run/flux-testbed/slurm: every slurmd, slurmctld, and munged when slurm-up.sh
# started it (not with --keep-munge).  In netns mode it also removes the test
# hosts, but only when slurm-up.sh made them.  Packages, slurm.conf and logs
# stay.  Safe to run when nothing is up.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=/run/flux-testbed/slurm
keep_munge=
[ "${1:-}" = --keep-munge ] && keep_munge=1

alive() { # alive <pid> <comm>: running, not a zombie, really <comm>
	[ -r "/proc/$1/status" ] && ! grep -q '^State:.*zombie' "/proc/$1/status" &&
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
stop() { # stop <pidfile> <comm>: TERM, up to 10 s, then KILL
	local pid
	if [ -s "$1" ] && pid=$(cat "$1") && alive "$pid" "$2"; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 100); do
			alive "$pid" "$2" || break
			sleep 0.1
		done
		alive "$pid" "$2" && kill -9 "$pid" 2>/dev/null
		stopped=$((stopped + 1))
	fi
	rm -f "$1"
}
client() { # clients run where slurmctld is reachable: tbhost1 in netns mode
	if grep -q '^SlurmctldHost=.*(127\.0\.0\.1)' /etc/slurm/slurm.conf 2>/dev/null; then
		timeout 10 "$@"
	else
		timeout 10 bash "$HERE/host-exec.sh" 1 "$@"
	fi
}

stopped=0
if [ -s "$RUN/slurmctld.pid" ] && alive "$(cat "$RUN/slurmctld.pid")" slurmctld; then
	jobs=$(client squeue -h -o %i 2>/dev/null)
	if [ -n "$jobs" ]; then
		client scancel --quiet --full $jobs
		for _ in $(seq 100); do # squeue lists only unfinished jobs
			[ -z "$(client squeue -h -o %i 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
fi
for f in "$RUN"/slurmd-*.pid; do
	[ -e "$f" ] && stop "$f" slurmd
done
stop "$RUN/slurmctld.pid" slurmctld
[ -n "$keep_munge" ] || stop "$RUN/munged.pid" munged
if [ -z "$keep_munge" ] && [ -e "$RUN/netns-made" ]; then
	bash "$HERE/netns-down.sh" >/dev/null
	rm -f "$RUN/netns-made"
fi
echo "slurm-down: stopped $stopped daemons"
