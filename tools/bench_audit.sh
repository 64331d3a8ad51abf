#!/usr/bin/env bash
# tools/bench_audit.sh BUILD_DIR - the audit side of `make bench` (also runs
# alone): fills a deskd with AUDIT_EVENTS unit.register events (default
# 1,000,000; 0 skips) using deskbench's pipelined mode, then, with deskd
# still serving, measures: a subscriber's catch-up over log.read (1000 per
# call), deskaudit replay of the whole log into a new directory, verify,
# history of one unit, and a hot backup.
set -euo pipefail
BUILD=${1:-build}
N=${AUDIT_EVENTS:-1000000}
[ "$N" -gt 0 ] || exit 0
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d -p "$HERE" .bench-audit.XXXXXX)   # on the disk deskd would use
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }
ms() { date +%s%3N; }

# shellcheck source=tools/benchlib.sh
. "$HERE/tools/benchlib.sh"
bench_conf "$TMP/deskd.conf" "$TMP/var"
"$HERE/$BUILD/deskd" -c "$TMP/deskd.conf" > "$TMP/deskd.log" 2>&1 & PID=$!
EP=$(bench_endpoint "$TMP/var")
A="$HERE/$BUILD/deskaudit"

log "audit: writing $N events"
GEN=$("$HERE/$BUILD/deskbench" -e "$EP" -n "$N" --pipeline 1000 --room-prefix '')
log "audit: catch-up over log.read"
READ=$("$HERE/$BUILD/deskbench" -e "$EP" --read-log)
EVENTS=$(grep -o 'events=[0-9]*' <<< "$READ" | cut -d= -f2)
log "audit: replay, verify, history, backup (deskd serving)"
t0=$(ms); "$A" replay "$TMP/var" --until "$EVENTS" --out "$TMP/asof" > /dev/null; t1=$(ms)
"$A" verify "$TMP/var" > /dev/null; t2=$(ms)
"$A" history "$TMP/var" unit:BENCH/C0-$((N / 2)) > /dev/null 2>&1; t3=$(ms)
"$A" backup "$TMP/var" "$TMP/bk" > /dev/null; t4=$(ms)
"$A" compare "$TMP/var" "$TMP/asof" > /dev/null
rate() { awk -v n="$EVENTS" -v ms="$1" 'BEGIN{printf "%.0f", ms ? n * 1000 / ms : 0}'; }

# Startup on the full log against an empty one: deskd reads only the last
# event and opens the projection tables, so both should take the same.
startup() { # data dir -> ms until deskd has published its endpoints
  sed "s|^data_dir = .*|data_dir = $1|" "$TMP/deskd.conf" > "$TMP/start.conf"
  rm -f "$1/endpoints"
  local t0 t1 pid; t0=$(ms)
  "$HERE/$BUILD/deskd" -c "$TMP/start.conf" > /dev/null 2>&1 & pid=$!
  while [ ! -f "$1/endpoints" ]; do sleep 0.005; done; t1=$(ms)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo $((t1 - t0))
}
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
mkdir -p "$TMP/empty"
S_EMPTY=$(startup "$TMP/empty"); S_FULL=$(startup "$TMP/var")
S_EMPTY2=$(startup "$TMP/empty"); S_FULL2=$(startup "$TMP/var")

echo "# audit bench $(date -u +%FT%TZ), $(nproc) cpu, $EVENTS events"
echo "generate (deskbench --pipeline 1000): $GEN"
echo "catch-up log.read x1000:              $READ"
echo "deskaudit replay (all projections):   $((t1 - t0)) ms, $(rate $((t1 - t0))) events/s"
echo "deskaudit verify:                     $((t2 - t1)) ms, $(rate $((t2 - t1))) events/s"
echo "deskaudit history (one unit, index):  $((t3 - t2)) ms (process start included)"
echo "deskaudit backup (compacting copy):   $((t4 - t3)) ms"
echo "deskd startup, empty log:             ${S_EMPTY} / ${S_EMPTY2} ms"
echo "deskd startup, $EVENTS events:       ${S_FULL} / ${S_FULL2} ms"
echo "sizes: live $(du -sh "$TMP/var" | cut -f1), replayed $(du -sh "$TMP/asof" | cut -f1), backup $(du -sh "$TMP/bk" | cut -f1)"
