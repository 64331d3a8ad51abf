#!/usr/bin/env bash
# tools/bench.sh BUILD_DIR - `make bench`: deskbench against a real deskd
# (16 and 64 closed-loop clients, pipelined 1000 in flight, and 16 with
# rooms and command ids in scrambled order, --scatter: in order, consecutive
# commands share derived state's pages) beside the
# baselines measured in the same run on the same disk: the naive ZeroMQ+LMDB
# group commit and its NOMETASYNC variant from ../shared/baselines, and
# Redis 7 XADD with appendfsync always; for the pipelined row, the same
# NOMETASYNC server and the ZeroMQ echo (the messaging ceiling) driven by
# tools/pipebase. Prints one table with ratios, and the server's CPU per
# event (all threads, and deskd's writer thread alone) and the bytes
# deskd's writer writes per event (derived state's pages): on a shared
# 2-core machine those move far less with the neighbours than events/s.
# Env: SECS (10 per row), ROUNDS (1), SHARED (../shared), AUDIT_EVENTS
# (1000000; tools/bench_audit.sh), RECOVERY_EVENTS (1000000;
# tools/bench_recovery.sh, run last).
set -euo pipefail
BUILD=${1:-build}
SECS=${SECS:-10} ROUNDS=${ROUNDS:-1}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$HERE/../shared}
TMP=$(mktemp -d -p "$HERE" .bench.XXXXXX)   # on the disk deskd would use
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }
# shellcheck source=tools/benchlib.sh
. "$HERE/tools/benchlib.sh"

if ! command -v redis-server >/dev/null; then
  log "installing redis-server for the baseline"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
DEV=$(basename "$(findmnt -no SOURCE -T "$TMP")")
flushes() { awk '{print ($16 == "" ? 0 : $16)}' "/sys/class/block/$DEV/stat" 2>/dev/null || echo 0; }
sectors() { awk '{print $7}' "/sys/class/block/$DEV/stat" 2>/dev/null || echo 0; } # written, 512 B
per_ev() { per_ev_b $(($1 * 512)) "$2"; } # sectors -> bytes/event
kv() { grep -o "\b$1=[^ ]*" <<< "$2" | head -1 | cut -d= -f2; }
TCK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "$1" 2>/dev/null || echo 0; } # utime+stime of a /proc stat file
# bytes the writer thread handed to write(2) and friends: derived state's
# pages at its commits (the log is the flusher's), as sure a count as CPU
wbytes() { awk '/^wchar/{print $2}' "/proc/$1/task/$1/io" 2>/dev/null || echo 0; }
per_ev_b() { awk -v d="$1" -v n="$2" 'BEGIN{printf "%.0f", n ? d / n : 0}'; }
us_ev() { awk -v t="$1" -v n="$2" -v k="$TCK" 'BEGIN{printf "%.1f", n ? t * 1e6 / k / n : 0}'; }
ROWS=$TMP/rows.tsv

start_deskd() { # [extra ini lines]: a fresh deskd on free ports; sets EP
  rm -rf "$TMP/var"
  bench_conf "$TMP/deskd.conf" "$TMP/var" "http = 127.0.0.1:0" "${1:-}"
  "$HERE/$BUILD/deskd" -c "$TMP/deskd.conf" > "$TMP/deskd.log" 2>&1 & PIDS+=($!)
  EP=$(bench_endpoint "$TMP/var")
}

stop_last() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; } # the server started last

bench_deskd() { # label, deskbench args...; BENCH_INI: extra config lines;
  # STALLED=1: a subscriber follows the events and stops reading at once
  # (deskctl tail into a pipe nobody reads: it blocks once the pipe is full)
  local label=$1 stalled=""; shift
  start_deskd "${BENCH_INI:-}"
  if [ -n "${STALLED:-}" ]; then
    ("$HERE/$BUILD/deskctl" -e "$EP" tail --events \
       "$(awk '/^events/{print $2}' "$TMP/var/endpoints")" | sleep 100000) &
    stalled=$!
    sleep 0.3
  fi
  local pid=${PIDS[-1]} c0 c1 w0 w1 b0 b1
  s0=$(sectors); c0=$(ticks "/proc/$pid/stat"); w0=$(ticks "/proc/$pid/task/$pid/stat")
  b0=$(wbytes "$pid")
  out=$("$HERE/$BUILD/deskbench" -e "$EP" -t "$SECS" --dev "$TMP/var" "$@")
  s1=$(sectors); c1=$(ticks "/proc/$pid/stat"); w1=$(ticks "/proc/$pid/task/$pid/stat")
  b1=$(wbytes "$pid")
  # deskd's memory at the end of the row: anonymous (heap, stacks: what
  # the target counts) and the peak of everything resident (LMDB's
  # file-backed maps included)
  awk -v l="$label" '/^VmHWM/{h=$2} /^RssAnon/{a=$2}
    END{printf "%s\t%d\t%d\n", l, a / 1024, h / 1024}' \
    "/proc/${PIDS[-1]}/status" >> "$TMP/rss.tsv" 2>/dev/null || true
  [ -n "$stalled" ] && { pkill -P "$stalled" 2>/dev/null; kill "$stalled" 2>/dev/null; wait "$stalled" 2>/dev/null || true; }
  stop_last
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$(kv rate "$out")" "$(kv p50_us "$out")" \
    "$(kv p99_us "$out")" "$(kv p999_us "$out")" "$(kv flush_per_ev "$out")" \
    "$(per_ev $((s1 - s0)) "$(kv events "$out")")" \
    "$(us_ev $((c1 - c0)) "$(kv events "$out")")" "$(us_ev $((w1 - w0)) "$(kv events "$out")")" \
    "$(per_ev_b $((b1 - b0)) "$(kv events "$out")")" >> "$ROWS"
}

bench_baseline() { # label, server program, clients (or "pipelined K":
  # tools/pipebase with K in flight; the echo server takes no directory)
  local label=$1 prog=$2 clients=$3 f0 f1 out n pid c0 c1
  rm -rf "$TMP/bl"; mkdir -p "$TMP/bl"
  if [ "$prog" = echo ]; then
    "$TMP/bin/zmq_rtt" echo tcp://127.0.0.1:5591 2> /dev/null & PIDS+=($!)
  else
    "$TMP/bin/$prog" tcp://127.0.0.1:5591 "$TMP/bl" 1024 2> /dev/null & PIDS+=($!)
  fi
  pid=${PIDS[-1]}
  sleep 0.3; f0=$(flushes); s0=$(sectors); c0=$(ticks "/proc/$pid/stat")
  if [ "${clients% *}" = pipelined ]; then
    out=$("$HERE/$BUILD/pipebase" tcp://127.0.0.1:5591 "${clients#* }" "$SECS")
  else
    out=$("$TMP/bin/zmq_rtt" client tcp://127.0.0.1:5591 "$clients" 100000000 "$SECS")
  fi
  f1=$(flushes); s1=$(sectors); c1=$(ticks "/proc/$pid/stat"); n=$(kv events "$out")
  stop_last
  lat() { local v; v=$(kv "$1" "$out" | cut -d. -f1); echo "${v:--}"; } # pipebase: none
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\n' "$label" "$(kv rate "$out")" \
    "$(lat p50_us)" "$(lat p99_us)" "$(lat p999_us)" \
    "$(awk -v d=$((f1 - f0)) -v n="$n" 'BEGIN{printf "%.3f", n ? d/n : 0}')" \
    "$(per_ev $((s1 - s0)) "$n")" "$(us_ev $((c1 - c0)) "$n")" >> "$ROWS"
}

bench_redis() { # clients
  local c=$1 f0 f1 out n
  n=$((SECS * 6000 * (c > 16 ? 2 : 1)))
  rm -rf "$TMP/redis"; mkdir -p "$TMP/redis"
  redis-server --port 6391 --bind 127.0.0.1 --dir "$TMP/redis" --appendonly yes \
    --appendfsync always --save '' --daemonize no --logfile "$TMP/redis/log" & PIDS+=($!)
  for _ in $(seq 50); do redis-cli -p 6391 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  f0=$(flushes); s0=$(sectors); c0=$(ticks "/proc/${PIDS[-1]}/stat")
  out=$(redis-benchmark -h 127.0.0.1 -p 6391 -c "$c" -n "$n" --csv XADD s '*' f "$(head -c 200 /dev/zero | tr '\0' x)" | tail -1)
  f1=$(flushes); s1=$(sectors); c1=$(ticks "/proc/${PIDS[-1]}/stat")
  stop_last
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<< "$(tr -d '"' <<< "$out")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\n' "redis XADD aof=always c=$c" "${rps%.*}" \
    "$(awk -v x="$p50" 'BEGIN{print x*1000}')" "$(awk -v x="$p99" 'BEGIN{print x*1000}')" "-" \
    "$(awk -v d=$((f1 - f0)) -v n="$n" 'BEGIN{printf "%.3f", d/n}')" "$(per_ev $((s1 - s0)) "$n")" \
    "$(us_ev $((c1 - c0)) "$n")" >> "$ROWS"
}

curve_keys() { # CURVE key pairs for deskd, the bench and the setup actor
  mkdir -p "$TMP/keys"
  for k in srv bench adm; do
    [ -f "$TMP/keys/$k.key" ] || "$HERE/$BUILD/deskctl" keygen "$TMP/keys/$k" >/dev/null
  done
  CURVE_INI="[security]
mode = curve
secret_key = $TMP/keys/srv.key
[keys]
admin = $(cat "$TMP/keys/adm.pub")
bench = $(cat "$TMP/keys/bench.pub")"
  CURVE_ARGS=(--key "$TMP/keys/bench.key" --setup-key "$TMP/keys/adm.key"
              --server-key "$TMP/keys/srv.pub")
}

mkdir -p "$TMP/bin"
for p in zmq_rtt zmq_lmdb_server zmq_lmdb_pipelined; do
  gcc -O2 -std=gnu11 -o "$TMP/bin/$p" "$SHARED/baselines/$p.c" -llmdb -lzmq -lmsgpackc -lpthread
done
for r in $(seq "$ROUNDS"); do
  log "round $r: deskd";     bench_deskd "deskd c=16" -c 16
                             bench_deskd "deskd c=64" -c 64
                             bench_deskd "deskd pipelined 1000" --pipeline 1000
                             bench_deskd "deskd c=16 scattered keys" -c 16 --scatter
  curve_keys;                BENCH_INI=$CURVE_INI bench_deskd "deskd curve c=16" -c 16 "${CURVE_ARGS[@]}"
                             STALLED=1 bench_deskd "deskd c=16 + stalled subscriber" -c 16
                             STALLED=1 bench_deskd "deskd pipelined + stalled subscriber" --pipeline 1000
  log "round $r: baselines"; bench_baseline "zmq+lmdb naive c=16" zmq_lmdb_server 16
                             bench_baseline "zmq+lmdb nometasync c=16" zmq_lmdb_pipelined 16
                             bench_baseline "zmq+lmdb naive c=64" zmq_lmdb_server 64
                             bench_baseline "zmq+lmdb nometasync pipelined 1000" zmq_lmdb_pipelined "pipelined 1000"
                             bench_baseline "zmq echo pipelined 1000 (no disk)" echo "pipelined 1000"
  log "round $r: redis";     bench_redis 16; bench_redis 64
done
log "fees: 10,000 units x 24 months"
start_deskd "[time]
calendar = $HERE/config/holidays.tsv
[fees]
rates = $HERE/config/fees.tsv"
FEES=$("$HERE/$BUILD/feebench" -e "$EP" -u "${FEE_UNITS:-10000}" -m "${FEE_MONTHS:-24}")
stop_last

# Complaints: N open complaints, the open list, then the escalation engine
# firing N due escalations after one clock.set (manual clock).
start_deskd "[time]
clock = manual
manual_start = 2026-03-02T09:00:00+08:00
calendar = $HERE/config/holidays.tsv"
CMPS=$("$HERE/$BUILD/cmpbench" -e "$EP" -n "${COMPLAINTS:-100000}")
stop_last

log "cards: ${CARDS:-200000} cards over a year, expiry schedule"
start_deskd "[time]
clock = manual
manual_start = 2026-01-01T09:00:00+08:00
calendar = $HERE/config/holidays.tsv
[fees]
rates = $HERE/config/fees.tsv"
CARDS_OUT=$("$HERE/$BUILD/cardbench" -e "$EP" -n "${CARDS:-200000}")
stop_last

echo "# make bench $(date -u +%FT%TZ), $(nproc) cpu, data on $DEV, ${SECS}s per row"
{ printf 'benchmark\tevents/s\tp50_us\tp99_us\tp999_us\tflush/ev\tbytes/ev\tcpu_us/ev\twriter_us/ev\twriter_B/ev\n'; cat "$ROWS"; } | column -t -s$'\t'
# The issue-14 targets as ratios against the baselines of this run (the
# last round's figures when ROUNDS > 1).
awk -F'\t' '{r[$1]=$2; p[$1]=$4; b[$1]=$7; u[$1]=$8}
  function q(a, z) { return r[z] ? sprintf("%.2f", r[a] / r[z]) : "-" }
  END {
    printf "16 desks: %sx nometasync (target >= 0.9), p99 %s vs %s us; %sx redis\n",
      q("deskd c=16", "zmq+lmdb nometasync c=16"), p["deskd c=16"], p["zmq+lmdb nometasync c=16"],
      q("deskd c=16", "redis XADD aof=always c=16")
    printf "64 desks: %sx naive (target >= 1.0), %sx redis (target >= 0.8)\n",
      q("deskd c=64", "zmq+lmdb naive c=64"), q("deskd c=64", "redis XADD aof=always c=64")
    printf "pipelined: %s events/s (target >= 150000); %sx the nometasync server pipelined\n",
      r["deskd pipelined 1000"], q("deskd pipelined 1000", "zmq+lmdb nometasync pipelined 1000")
    printf "server CPU per event: deskd %s / %s / %s us (16, 64 desks, pipelined), nometasync baseline %s / - / %s us\n",
      u["deskd c=16"], u["deskd c=64"], u["deskd pipelined 1000"],
      u["zmq+lmdb nometasync c=16"], u["zmq+lmdb nometasync pipelined 1000"]
    printf "bytes/event at 16 desks: deskd %s, nometasync baseline %s (target <= 2x)\n",
      b["deskd c=16"], b["zmq+lmdb nometasync c=16"] }' "$ROWS"
awk -F'\t' '{printf "deskd memory, %s: %d MB anonymous, %d MB peak resident with the LMDB maps (target at 64 desks: anonymous <= 64 MB)\n", $1, $2, $3}' "$TMP/rss.tsv" 2>/dev/null || true
echo "fees: $FEES"
echo "complaints: $CMPS"
echo "cards: $CARDS_OUT"
bash "$HERE/tools/bench_sink.sh" "$BUILD"    # desksink into PostgreSQL
bash "$HERE/tools/bench_audit.sh" "$BUILD"   # AUDIT_EVENTS=0 skips it
bash "$HERE/tools/bench_recovery.sh" "$BUILD" # RECOVERY_EVENTS=0 skips it
