#!/usr/bin/env bash
# tools/bench_ir.sh BUILD_DIR - `make bench-ir`: the instructions deskd
# executes per command, counted by valgrind's callgrind, all of deskd's
# threads together. Unlike events/s on this shared 2-core machine, the
# count is the same from run to run (to a few hundredths of a percent), so
# a change of a few percent in the work per command shows, and shows
# where. Each row runs deskd twice, for N1 and N2 commands of deskbench
# (unit.register, as `make bench`); the difference divided by N2 - N1 is
# the count per command, start-up and shut-down cancelled out. Prints the
# functions of deskd that take the most of the larger run, inclusive.
# Under valgrind deskd runs some 50 times slower, so what is done per
# commit on a timer (the LMDB log every log_commit_ms, derived state every
# derived_commit_ms) falls on fewer commands and weighs more than at full
# speed; compare counts with each other, not with make bench's CPU/event.
# Env: N1 (5000), N2 (25000), TOP (25).
set -euo pipefail
BUILD=${1:-build}
N1=${N1:-5000} N2=${N2:-25000} TOP=${TOP:-25}
HERE=$(cd "$(dirname "$0")/.." && pwd)
bash "$HERE/tools/need.sh" cmd:valgrind=valgrind cmd:callgrind_annotate=valgrind
# shellcheck source=tools/benchlib.sh
. "$HERE/tools/benchlib.sh"
TMP=$(mktemp -d -p "$HERE" .bench-ir.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

# run MODE N OUT: deskd under callgrind, N commands of deskbench MODE
run() {
  local dir=$TMP/run out=$3
  rm -rf "$dir" && mkdir -p "$dir"
  bench_conf "$dir/deskd.conf" "$dir/var" "http = 127.0.0.1:0"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$BUILD/deskd" -c "$dir/deskd.conf" > "$dir/deskd.log" 2>&1 &
  PID=$!
  local ep
  ep=$(bench_endpoint "$dir/var" 600) # valgrind starts slowly
  # shellcheck disable=SC2086
  "$BUILD/deskbench" -e "$ep" -n "$2" $1 > "$dir/bench.txt"
  kill -TERM "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
}
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}'; }

echo "# bench-ir $(date -u +%FT%TZ), $(valgrind --version), N1=$N1 N2=$N2"
printf '%-26s %14s %14s %12s\n' row "Ir N1" "Ir N2" "Ir/command"
for row in "pipelined 1000:--pipeline 1000" "16 desks:-c 16"; do
  name=${row%%:*} mode=${row#*:}
  run "$mode" "$N1" "$TMP/a.out"
  run "$mode" "$N2" "$TMP/b.out"
  a=$(total "$TMP/a.out") b=$(total "$TMP/b.out")
  printf '%-26s %14s %14s %12s\n' "$name" "$a" "$b" $(((b - a) / (N2 - N1)))
  cp "$TMP/b.out" "$TMP/${name// /_}.out"
done
for f in "$TMP"/*_*.out; do
  echo "# where, $(basename "$f" .out) (inclusive, % of the N2 run)"
  callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
    awk -v top="$TOP" '/\/(core|handlers|projections)\// && n++ < top' |
    sed -E 's# \[[^]]*\]$##; s#[^ ]*/(core|handlers|projections)/#\1/#'
done
