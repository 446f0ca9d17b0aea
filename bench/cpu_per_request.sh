#!/usr/bin/env bash
# CPU time a process spends per request under load, from /proc/PID/stat around one wrk run: steadier than
# req/s on a shared machine. The last line gives how many of the machine's cores were busy meanwhile (/proc/stat).
#   [CONNECTIONS=50] bench/cpu_per_request.sh PIDS URL [SECONDS [wrk args...]]   (several PIDs: comma-separated)
set -euo pipefail
pids=${1//,/ } url=$2 seconds=${3:-4}
shift $(( $# < 3 ? $# : 3 ))
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Busy and total ticks of all cores: busy is everything but idle, iowait and steal (time the hypervisor took).
machine() { awk '/^cpu / {total = 0; for (i = 2; i <= 9; i++) total += $i; print total - $5 - $6 - $9, total}' /proc/stat; }
declare -A before
for pid in $pids; do before[$pid]=$(ticks "$pid"); done
read -r busy0 total0 < <(machine)
out=$(wrk -t1 -c"${CONNECTIONS:-50}" -d"${seconds}s" "$@" "$url")
read -r busy1 total1 < <(machine)
requests=$(awk '/requests in/ {print $1}' <<<"$out")
echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s"
for pid in $pids; do
    awk -v a="${before[$pid]}" -v b="$(ticks "$pid")" -v r="$requests" -v hz="$(getconf CLK_TCK)" -v name="$(cat "/proc/$pid/comm")" \
        'BEGIN {printf "%s: %.1f us CPU per request\n", name, (b - a) / hz * 1e6 / r}'
done
awk -v busy=$((busy1 - busy0)) -v total=$((total1 - total0)) -v cores="$(nproc)" \
    'BEGIN {if (total > 0) printf "busy: %.2f of %d cores\n", busy / total * cores, cores}'
