#!/usr/bin/env bash
# scripts/testbed/netns-down.sh - remove what netns-up.sh made: the
# namespaces tbhost<i> and tbhost-sw (with their veths and bridge), the
# /etc/netns/<ns> directories and the guard route.  Processes still running
# inside those namespaces (and only those) get SIGTERM, then SIGKILL.
# Safe to run when nothing is up.
set -uo pipefail

prefix=tbhost
subnet=10.203.0

[ "$(id -u)" -eq 0 ] || { echo "netns-down: needs root" >&2; exit 1; }
command -v ip >/dev/null 2>&1 || { echo "netns-down: no ip command; nothing to do"; exit 0; }

nss=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix([0-9]+|-sw)\$" || true)
for ns in $nss; do
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	if [ -n "$pids" ]; then
		kill $pids 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			pids=$(ip netns pids "$ns" 2>/dev/null || true)
			[ -z "$pids" ] && break
			sleep 0.1
		done
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	fi
	ip netns del "$ns" # takes the veth ends and the bridge with it
	rm -rf "/etc/netns/$ns"
done
ip route del unreachable "$subnet.0/24" 2>/dev/null || true
# internal/testbed's mark "the hosts are mine to remove" goes with them
rm -f /run/flux-testbed/owned

left=$(ip netns list 2>/dev/null | grep -cE "^$prefix([0-9]+|-sw)( |\$)" || true)
echo "netns-down: removed $(echo $nss | wc -w) namespaces; $left left"
