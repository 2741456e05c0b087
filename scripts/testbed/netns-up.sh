#!/usr/bin/env bash
# scripts/testbed/netns-up.sh [N] - N test hosts on this machine, for tests of
# multi-host instances over real TCP.  Needs root and iproute2 (installed
# with apt-get when missing).  Safe to run again: it completes what is
# missing and changes nothing that is already right.
#
#   tbhost1 .. tbhostN  one network namespace per host; lo, and eth0 with
#                       10.203.0.<i>/24; /etc/netns/tbhost<i>/hosts lists
#                       localhost and every tbhost<j>
#   tbhost-sw           a namespace holding only the bridge br0 that joins
#                       the hosts (veth p<i> in tbhost-sw <-> eth0 in tbhost<i>)
#
# The root namespace gets no interface and no address.  It gets one route,
# "unreachable 10.203.0.0/24", so that a test which forgets to enter a host
# fails at once (EHOSTUNREACH) instead of sending 10.203.0.x packets out of
# the machine's default route.  netns-down.sh removes all of it.
#
# Run a command on host i with scripts/testbed/host-exec.sh i CMD... (its
# hostname is then tbhost<i>); `ip netns exec tbhost<i> CMD` also works but
# keeps the machine's hostname and remounts /sys.
set -euo pipefail

n=${1:-3}
case $n in
'' | *[!0-9]*) echo "usage: $0 [N]   (1 <= N <= 250; default 3)" >&2; exit 2 ;;
esac
if [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then
	echo "netns-up: N=$n: give 1 to 250 hosts" >&2
	exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "netns-up: needs root (network namespaces)" >&2; exit 1; }

prefix=tbhost
subnet=10.203.0
sw=$prefix-sw

if ! command -v ip >/dev/null 2>&1; then
	echo "netns-up: installing iproute2" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 >/dev/null
fi

ns_exists() { [ -e "/run/netns/$1" ]; }

# the switch
ns_exists "$sw" || ip netns add "$sw"
ip -n "$sw" link set lo up
if ! ip -n "$sw" link show br0 >/dev/null 2>&1; then
	ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0
fi
ip -n "$sw" link set br0 up

# the hosts file every host sees as /etc/hosts
hosts=$(printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
	for i in $(seq 1 "$n"); do printf '%s.%d\t%s%d\n' "$subnet" "$i" "$prefix" "$i"; done)

for i in $(seq 1 "$n"); do
	ns=$prefix$i
	ns_exists "$ns" || ip netns add "$ns"
	ip -n "$ns" link set lo up
	if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
		# a half-made pair from an interrupted run: drop the switch end first
		ip -n "$sw" link del "p$i" 2>/dev/null || true
		ip -n "$sw" link add "p$i" type veth peer name eth0 netns "$ns"
	fi
	ip -n "$sw" link set "p$i" master br0
	ip -n "$sw" link set "p$i" up
	ip -n "$ns" addr replace "$subnet.$i/24" dev eth0
	ip -n "$ns" link set eth0 up
	mkdir -p "/etc/netns/$ns"
	printf '%s\n' "$hosts" >"/etc/netns/$ns/hosts.tmp"
	mv "/etc/netns/$ns/hosts.tmp" "/etc/netns/$ns/hosts"
done

# the guard route (already there on a second run)
if ! ip route show type unreachable | grep -q "^unreachable $subnet.0/24"; then
	ip route add unreachable "$subnet.0/24"
fi

# Wait until every host reaches host 1 through the bridge.  A TCP connect to
# port 9 (discard; nothing listens) answered "refused" proves the path works.
reach() { # from-ns to-addr
	local out
	out=$(ip netns exec "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) && return 0
	case $out in *refused*) return 0 ;; esac
	return 1
}
for i in $(seq 1 "$n"); do
	tries=0
	until reach "$prefix$i" "$subnet.1"; do
		tries=$((tries + 1))
		if [ "$tries" -ge 50 ]; then
			echo "netns-up: $prefix$i cannot reach $subnet.1 after 10 s" >&2
			exit 1
		fi
		sleep 0.2
	done
done

echo "netns-up: $n hosts up: ${prefix}1..$prefix$n = $subnet.1..$subnet.$n (run on one: $(dirname "$0")/host-exec.sh I CMD)"
