# scripts/lib/bench.sh: helpers shared by scripts/bench-mpi, bench-hierarchy and
# bench-slurm (same style as scripts/bench, which keeps its own copies).
# Source it after setting `prog` (the script's name, for messages) and
# defining `usage`; then call bench_args "$@", bench_setup and bench_build.
# shellcheck shell=bash

# ---- options -------------------------------------------------------------------

# bench_args ARGS...: the options every benchmark takes. Sets runs (default 3;
# --quick alone makes it 1 unless -r was given), quick, strict.
runs=3 runs_set='' quick='' strict=''
bench_args() {
	while (($#)); do
		case $1 in
		-r) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "$prog: -r needs a positive count, e.g. -r 5" >&2; exit 2; }
			runs=$2 runs_set=1; shift ;;
		-r[1-9]*) [[ ${1#-r} =~ ^[0-9]+$ ]] || { echo "$prog: -r needs a positive count, e.g. -r 5" >&2; exit 2; }
			runs=${1#-r} runs_set=1 ;;
		--quick) quick=1 ;;
		--strict) strict=1 ;;
		-h | --help) usage; exit 0 ;;
		*) echo "$prog: unknown argument '$1'; see scripts/$prog --help" >&2; exit 2 ;;
		esac
		shift
	done
	if [[ -n $quick && -z $runs_set ]]; then runs=1; fi
	return 0
}

# bench_count NAME...: every named variable must hold a count (BENCH_* knobs).
bench_count() {
	local v
	for v in "$@"; do
		[[ ${!v} =~ ^[0-9]+$ ]] || { echo "$prog: $v='${!v}' is not a count; set the BENCH_* variable to a number" >&2; exit 2; }
	done
}

# ---- setup -------------------------------------------------------------------------

# bench_setup: cd to the repository, a temp dir removed on exit ($tmp).
# A script that needs more cleanup sets bench_cleanup to a function name.
bench_cleanup=
bench_setup() {
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	cd "$root"
	np=$(nproc)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
	trap 'bench_on_exit' EXIT
	trap 'exit 130' INT TERM
	tool_failed=
}
bench_on_exit() {
	local rc=$?
	if [[ -n $bench_cleanup ]]; then "$bench_cleanup" || true; fi
	rm -rf "$tmp"
	return $rc
}

# bench_build: scripts/build (bin/flux and the flux-capacitor and
# flux-hierarchy symlinks); sets bin (absolute) and flux (bin/flux).
bench_build() {
	bash "$root/scripts/build" || { echo "$prog: bin/flux did not build (scripts/build); fix the build first" >&2; exit 2; }
	bin=$root/bin
	flux=$bin/flux
}

loud() { printf '\n!!!!! %s\n\n' "$*" >&2; }
note() { echo "$prog: $*" >&2; }

apt_updated=
# need_pkg CHECK-COMMAND PACKAGE...: installs the packages with apt-get when
# CHECK fails and we are root; returns 1 (after a loud note) when still missing.
need_pkg() {
	local check=$1
	shift
	eval "$check" >/dev/null 2>&1 && return 0
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "$prog: installing Debian package(s) '$*' with apt-get" >&2
		if [[ -z $apt_updated ]]; then
			DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$tmp/apt.log" 2>&1 || true
			apt_updated=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$tmp/apt.log" 2>&1 || true
		eval "$check" >/dev/null 2>&1 && return 0
		tail -n 5 "$tmp/apt.log" >&2
	fi
	loud "SKIPPING what needs '$*': missing or unusable and could not be installed here; as root: apt-get install $*"
	return 1
}

# ---- arithmetic ------------------------------------------------------------------

# now: seconds since the epoch, nanosecond resolution.
now() { date +%s.%N; }
# elapsed START END
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
# median VALUES...: the middle value (mean of the two middle ones for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) printf "%.4f", v[(NR + 1) / 2]; else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# ratio A B: A/B with 2 decimals, "-" when either is missing.
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || a == "-" || b == "" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# rate N SECONDS: N/SECONDS as a whole number, "-" when missing.
rate() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b == "-" || b + 0 == 0) print "-"; else printf "%.0f", a / b }'; }
# calc EXPR [FORMAT]: awk arithmetic, e.g. calc '2 * 3' %.1f
calc() { awk "BEGIN { printf \"${2:-%.4f}\", $1 }"; }
# lines N TEXT: N copies of the line TEXT (awk, so no SIGPIPE under pipefail).
lines() { awk -v n="$1" -v t="$2" 'BEGIN { for (i = 0; i < n; i++) print t }'; }
# rotated R ITEM...: the items rotated left by R (the order of round R), one a line.
rotated() {
	local r=$1 n i
	shift
	n=$#
	local items=("$@")
	for ((i = 0; i < n; i++)); do echo "${items[(i + r) % n]}"; done
}

# ---- results -------------------------------------------------------------------------

# Times are kept in the associative array `times` (key -> "s s s "); after the
# runs, med KEY prints the median of KEY, or nothing.
# rtimes holds the same for the current round only (progress lines); clear it
# with new_round.
declare -A times rtimes
record() { times[$1]+="$2 " rtimes[$1]+="$2 "; }
new_round() { rtimes=(); }
med() {
	# shellcheck disable=SC2086 # word splitting of the recorded times is the point
	[[ -n ${times[$1]:-} ]] && median ${times[$1]}
	return 0
}

failed_bars=0
# bar NAME VALUE OP LIMIT: prints PASS/FAIL (SKIP when VALUE is "-" or empty).
bar() {
	local name=$1 v=${2:-} op=$3 lim=$4 verdict
	if [[ -z $v || $v == - ]]; then
		verdict=SKIP
	elif awk -v v="$v" -v l="$lim" -v op="$op" 'BEGIN { exit !(op == ">=" ? v >= l : v <= l) }'; then
		verdict=PASS
	else
		verdict=FAIL failed_bars=$((failed_bars + 1))
	fi
	printf '%-4s %-60s %s %s %s\n' "$verdict" "$name" "${v:--}" "$op" "$lim"
}

# bench_exit: 2 when a tool failed, 1 when --strict and a bar failed, else 0.
bench_exit() {
	if [[ -n $tool_failed ]]; then
		echo "$prog: a tool failed to run (see above); the figures are incomplete" >&2
		exit 2
	fi
	if [[ -n $strict ]] && ((failed_bars > 0)); then
		echo "$prog: $failed_bars bar(s) failed (--strict)" >&2
		exit 1
	fi
	exit 0
}
