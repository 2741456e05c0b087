#!/usr/bin/env bash
# scripts/testbed/host-exec.sh I CMD [ARGS...] - run CMD on test host I made
# by netns-up.sh: in network namespace tbhost<I>, with hostname tbhost<I>,
# and with /etc/netns/tbhost<I>/hosts as /etc/hosts.  I may also be the
# name (tbhost2).  CMD's exit status is this script's.
#
# Not `ip netns exec`: that keeps this machine's hostname and remounts /sys
# (daemons that look at /sys/fs/cgroup, such as slurmd, then fail).  Here
# nsenter joins the network namespace, and unshare gives the command its own
# UTS namespace (for the hostname) and a private mount namespace (so the
# bind mount over /etc/hosts is seen by this command and its children only).
# Every step execs the next, so CMD ends up with this script's pid, and
# signals sent to it reach CMD.
#   host-exec.sh 2 hostname            -> tbhost2
#   host-exec.sh 1 python3 -m http.server --bind 10.203.0.1 8080
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: $0 I CMD [ARGS...]   (run CMD on test host tbhost<I>)" >&2
	exit 2
fi
h=$1
shift
case $h in
*[!0-9]*) ;;
*) h=tbhost$h ;;
esac
if [ ! -e "/run/netns/$h" ]; then
	echo "host-exec: no test host $h; run scripts/testbed/netns-up.sh first" >&2
	exit 1
fi
exec nsenter --net="/run/netns/$h" unshare --uts --mount sh -c '
h=$1; shift
if [ -f "/etc/netns/$h/hosts" ]; then mount --bind "/etc/netns/$h/hosts" /etc/hosts || exit 1; fi
hostname "$h" || exit 1
exec "$@"' host-exec "$h" "$@"
