#!/usr/bin/env bash
# scripts/testbed/slurm-up.sh - a real Slurm cluster on this one machine, for
# tests and for trying things by hand.  Needs root.  Safe to run again: with
# the same settings it only checks that the cluster is up (~0.1 s); with
# other settings it restarts the daemons it started.
#
# What it does:
#   1. installs slurmctld, slurmd, slurm-client and munge from Debian when
#      missing (apt-get update first; package scripts may not start daemons)
#   2. starts munged unless one is already answering
#   3. writes /etc/slurm/slurm.conf (a config it did not write is kept as
#      slurm.conf.orig.<time>)
#   4. starts slurmctld and one slurmd per node, then waits until sinfo shows
#      every node idle (or busy, when the cluster was already up and has jobs)
#
# Layouts:
#   default           nodes n1..nN on this host, all NodeAddr=127.0.0.1, one
#                     slurmd each (`slurmd -N n<i>`, Debian builds slurmd with
#                     --enable-multiple-slurmd) on ports 17001..1700N;
#                     slurmctld on 16817.  Use sbatch/srun/salloc as usual.
#   SLURM_TB_NETNS=1  nodes tbhost1..tbhostN are separate hosts: network
#                     namespaces made by netns-up.sh (10.203.0.<i>), each
#                     slurmd started through host-exec.sh (hostname
#                     tbhost<i>), slurmctld on tbhost1.  The root namespace
#                     cannot reach them: run every client on a host,
#                       bash scripts/testbed/host-exec.sh 1 srun -N3 hostname
#
# Env (defaults): SLURM_TB_NODES=4, SLURM_TB_CPUS=4 (CPUs each node declares;
# SlurmdParameters=config_overrides lets that exceed the real cores),
# SLURM_TB_MEM_MB=2048, SLURM_TB_NETNS=0.
#
# Files: pid files in /run/flux-testbed/slurm (slurm-down.sh stops only the
# daemons listed there), state in /var/lib/flux-testbed/slurm, logs in
# /var/log/flux-testbed/slurm.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NODES=${SLURM_TB_NODES:-4}
CPUS=${SLURM_TB_CPUS:-4}
MEM=${SLURM_TB_MEM_MB:-2048}
NETNS=${SLURM_TB_NETNS:-0}
RUN=/run/flux-testbed/slurm
STATE=/var/lib/flux-testbed/slurm
LOGS=/var/log/flux-testbed/slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by the flux project's scripts/testbed/slurm-up.sh"
T0=$(date +%s%N)

say() { printf 'slurm-up: %s\n' "$*"; }
die() {
	printf 'slurm-up: %s\n' "$*" >&2
	exit 1
}
num() { case $1 in '' | *[!0-9]*) return 1 ;; esac; [ "$1" -ge 1 ]; }
num "$NODES" && [ "$NODES" -le 250 ] || die "SLURM_TB_NODES=$NODES: give 1 to 250"
num "$CPUS" || die "SLURM_TB_CPUS=$CPUS: give a positive number"
num "$MEM" || die "SLURM_TB_MEM_MB=$MEM: give a positive number"
case $NETNS in 0 | 1) ;; *) die "SLURM_TB_NETNS=$NETNS: give 0 or 1" ;; esac
[ "$(id -u)" -eq 0 ] || die "needs root (daemons, /etc/slurm, apt-get)"

# alive <pid> <comm>: running, not a zombie (PID 1 here reaps orphans only
# after a few seconds, so kill -0 is not enough), and really <comm>
alive() {
	[ -r "/proc/$1/status" ] && ! grep -q '^State:.*zombie' "/proc/$1/status" &&
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
ours() { # ours <pidfile> <comm>
	local pid
	[ -s "$1" ] && pid=$(cat "$1") && alive "$pid" "$2"
}

# --- 1. packages --------------------------------------------------------------
need=()
for p in slurmctld slurmd slurm-client munge; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]} (apt-get)"
	apt-get update -qq
	# exit 101 from policy-rc.d: the packages' scripts must not start munged
	# or slurm themselves; this script starts (and so owns) them
	prc=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		prc=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$prc"
		chmod +x "$prc"
	fi
	rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || rc=$?
	[ -z "$prc" ] || rm -f "$prc"
	[ "$rc" -eq 0 ] || die "apt-get install ${need[*]} failed ($rc)"
fi

mkdir -p "$RUN" "$STATE/ctld" "$LOGS"

# --- 2. munge (its unix socket in /run/munge serves every namespace) ----------
if [ ! -s /etc/munge/munge.key ]; then
	mungekey --create --keyfile=/etc/munge/munge.key
	chown munge:munge /etc/munge/munge.key
	chmod 0400 /etc/munge/munge.key
fi
if ! munge -n </dev/null >/dev/null 2>&1; then
	install -d -o munge -g munge -m 0755 /run/munge
	runuser -u munge -- /usr/sbin/munged
	cp /run/munge/munged.pid "$RUN/munged.pid" # we started it: slurm-down.sh stops it
	for _ in $(seq 50); do
		munge -n </dev/null >/dev/null 2>&1 && break
		sleep 0.1
	done
fi
munge -n </dev/null | unmunge >/dev/null 2>&1 || die "munge does not work (munged not answering?)"

# A slurmctld or slurmd we did not start (another testbed, a real install)
# holds the ports and reads another config: say so instead of fighting it.
foreign=
for p in /proc/[0-9]*; do
	c=$(cat "$p/comm" 2>/dev/null) || continue
	case $c in slurmctld | slurmd) ;; *) continue ;; esac
	pid=${p#/proc/}
	alive "$pid" "$c" || continue
	grep -qx "$pid" "$RUN"/slurm*.pid 2>/dev/null || foreign="$foreign $c($pid)"
done
[ -z "$foreign" ] || die "Slurm daemons not started by this script are running:$foreign; stop them first (e.g. bash ../shared/testbed/slurm-down.sh)"

# --- 3. layout and slurm.conf --------------------------------------------------
hl() { # hl PREFIX FIRST LAST -> PREFIX[FIRST-LAST], or PREFIXFIRST for one
	if [ "$2" = "$3" ]; then echo "$1$2"; else echo "$1[$2-$3]"; fi
}
if [ "$NETNS" = 1 ]; then
	netns_new=
	[ -e /run/netns/tbhost-sw ] || netns_new=1
	bash "$HERE/netns-up.sh" "$NODES" >/dev/null
	# hosts this script made are its to remove (slurm-down.sh)
	[ -z "$netns_new" ] || echo "$NODES" >"$RUN/netns-made"
	on() { # on I CMD...: run CMD on test host I
		local i=$1
		shift
		bash "$HERE/host-exec.sh" "$i" "$@"
	}
	node() { echo "tbhost$1"; }
	ctld="tbhost1(10.203.0.1)"
	nodeline="NodeName=$(hl tbhost 1 "$NODES") NodeAddr=$(hl 10.203.0. 1 "$NODES")"
else
	on() {
		shift
		"$@"
	}
	node() { echo "n$1"; }
	host=$(hostname -s)
	ctld="$host(127.0.0.1)"
	nodeline="NodeName=$(hl n 1 "$NODES") NodeHostname=$host NodeAddr=127.0.0.1 Port=$(hl '' 17001 $((17000 + NODES)))"
fi

new=$(mktemp)
trap 'rm -f "$new"' EXIT
cat >"$new" <<EOF
$MARK
# nodes $(hl "$(node "")" 1 "$NODES") x $CPUS CPUs, netns=$NETNS; stop with scripts/testbed/slurm-down.sh
ClusterName=testbed
SlurmctldHost=$ctld
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=17000
AuthType=auth/munge
CredType=cred/munge
MailProg=/bin/true
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d-%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd-%n.log
# each node may declare more CPUs than the machine has
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
Waittime=0
$nodeline CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

if ! cmp -s "$new" "$CONF"; then
	if ls "$RUN"/slurm*.pid >/dev/null 2>&1; then
		say "settings changed: restarting the daemons"
		bash "$HERE/slurm-down.sh" --keep-munge >/dev/null
	fi
	if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
		keep=$CONF.orig.$(date +%s)
		cp -p "$CONF" "$keep"
		say "kept the existing $CONF (not ours) as $keep"
	fi
	mkdir -p /etc/slurm
	cp "$new" "$CONF.tmp"
	chmod 0644 "$CONF.tmp"
	mv "$CONF.tmp" "$CONF"
fi

# --- 4. daemons (each daemonizes and writes its own pid file) ------------------
fresh=0
if ! ours "$RUN/slurmctld.pid" slurmctld; then
	rm -rf "${STATE:?}/ctld/"* # a fresh cluster: no jobs or node states from before
	on 1 slurmctld
	fresh=1
fi
for i in $(seq 1 "$NODES"); do
	n=$(node "$i")
	if ! ours "$RUN/slurmd-$n.pid" slurmd; then
		mkdir -p "$STATE/d-$n"
		on "$i" slurmd -N "$n"
	fi
done

# --- 5. wait for the nodes -------------------------------------------------------
# A fresh cluster (slurmctld just started, its state wiped) has no jobs, so
# every node must be idle.  One that was already up may be running jobs
# (tests share it): there busy nodes count as up too.
ok='^idle$'
[ "$fresh" = 1 ] || ok='^(idle|mix|alloc|comp)$'
ready=
states=
for _ in $(seq 150); do
	states=$(on 1 sinfo -h -N -o '%N %t' 2>/dev/null | sort -u || true)
	if [ "$(printf '%s\n' "$states" | grep -c .)" -eq "$NODES" ] &&
		! printf '%s\n' "$states" | awk '{print $2}' | grep -qvE "$ok"; then
		ready=1
		break
	fi
	sleep 0.2
done
if [ -z "$ready" ]; then
	echo "slurm-up: nodes not up after 30 s: $(echo $states)" >&2
	on 1 sinfo -R >&2 || true
	tail -n 5 "$LOGS/slurmctld.log" >&2 || true
	exit 1
fi

ms=$((($(date +%s%N) - T0) / 1000000))
say "ready in $((ms / 1000)).$(printf %03d $((ms % 1000))) s: $(hl "$(node '')" 1 "$NODES"), $CPUS CPUs each ($([ "$NETNS" = 1 ] && echo "one host each, run clients with host-exec.sh 1" || echo "on this host"))"
