#!/usr/bin/env bash
# tools/bench_recovery.sh BUILD_DIR - recovery after a simulated OS crash,
# with and without a checkpoint of derived state (part of `make bench`,
# also runs alone). One deskd, checkpoint_events = N - TAIL, is filled with
# N unit.register events by deskbench's pipelined mode: N - TAIL, then,
# once its one checkpoint is written, TAIL more. Then, on that same log:
#   1. kill -9 and start as after a reboot (another DESKD_BOOT_ID): deskd
#      restores the checkpoint and replays the tail;
#   2. kill -9, the checkpoint removed, the same: it replays the whole log.
# Each twice: with deskd's files in the page cache (as after kill -9), and
# cold (their cache flushed and dropped, as after a real reboot). Each
# line: ms from start until deskd's endpoints say ready, the log's events
# per second of that, and what deskd replayed. Env: RECOVERY_EVENTS (N, default 1,000,000; 0 skips),
# RECOVERY_TAIL (TAIL, default 50,000).
set -euo pipefail
BUILD=${1:-build}
N=${RECOVERY_EVENTS:-1000000}
TAIL=${RECOVERY_TAIL:-50000}
[ "$N" -gt 0 ] || exit 0
[ "$TAIL" -lt "$N" ] || { echo "RECOVERY_TAIL must be below RECOVERY_EVENTS" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d -p "$HERE" .bench-recovery.XXXXXX) # on the disk deskd would use
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }
ms() { date +%s%3N; }

# shellcheck source=tools/benchlib.sh
. "$HERE/tools/benchlib.sh"
bench_conf "$TMP/deskd.conf" "$TMP/var" "http = off
checkpoint_events = $((N - TAIL))
checkpoint_interval_s = 0"
start() { # -> PID; returns once deskd's endpoints say "state ready"
  rm -f "$TMP/var/endpoints"
  : > "$TMP/deskd.log"
  "$HERE/$BUILD/deskd" -c "$TMP/deskd.conf" >> "$TMP/deskd.log" 2>&1 & PID=$!
  until grep -qs '^state ready' "$TMP/var/endpoints"; do
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/deskd.log" >&2; exit 1; }
    sleep 0.005
  done
}
crash() { kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

start
EP=$(awk '/^commands/{print $2}' "$TMP/var/endpoints")
log "recovery: writing $N events (a checkpoint after $((N - TAIL)))"
# the tail is written after the checkpoint is, so that it is one whatever
# the speed of the run
GEN=$("$HERE/$BUILD/deskbench" -e "$EP" -n "$((N - TAIL))" --pipeline 1000 --room-prefix '')
until [ -f "$TMP/var/derived.ckpt/checkpoint" ]; do sleep 0.05; done
"$HERE/$BUILD/deskbench" -e "$EP" -n "$TAIL" --pipeline 1000 --room-prefix t --no-setup > /dev/null
CK=$(awk '/^seq /{print $2}' "$TMP/var/derived.ckpt/checkpoint")
CKLINE=$(grep 'checkpoint of seq' "$TMP/deskd.log" | tail -1)
CKSIZE=$(du -sh "$TMP/var/derived.ckpt/data.mdb" | cut -f1)
crash

recover() { # boot id -> "ms|what deskd replayed"
  local t0 t1
  t0=$(ms)
  DESKD_BOOT_ID="$1" start
  t1=$(ms)
  local what
  what="$(grep -o 'replaying [0-9]* events ([0-9.]*)' "$TMP/deskd.log" | tail -1 || true); $(grep -o 'replaying: .*' "$TMP/deskd.log" | tail -1 || true)"
  [ "$what" = "; " ] && what="nothing to replay"
  echo "$((t1 - t0))|$what"
  crash
}
show() { # "ms|replayed" -> a line
  echo "${1%%|*} ms, $(rate "${1%%|*}") events/s; ${1#*|}"
}
rate() { awk -v n="$LAST" -v ms="$1" 'BEGIN{printf "%.0f", ms ? n * 1000 / ms : 0}'; }
# What an OS crash leaves in memory: nothing. The page cache of deskd's own
# files only (flushed first, then dropped), so the rest of the machine is
# left alone.
cold() {
  for f in "$TMP"/var/data.mdb "$TMP"/var/derived/data.mdb "$TMP"/var/derived.ckpt/data.mdb; do
    [ -f "$f" ] || continue
    sync "$f"; dd if="$f" iflag=nocache count=0 status=none
  done
}
warm() { cat "$TMP"/var/data.mdb "$TMP"/var/derived.ckpt/data.mdb > /dev/null 2>&1 || true; }
log "recovery: from the checkpoint (files in the page cache)"
warm; W_WITH=$(recover bench-boot-1)
log "recovery: from the checkpoint (cold)"
cold; C_WITH=$(recover bench-boot-2)
rm -rf "$TMP/var/derived.ckpt"
log "recovery: from the whole log (in the page cache)"
warm; W_WITHOUT=$(recover bench-boot-3)
log "recovery: from the whole log (cold)"
cold; C_WITHOUT=$(recover bench-boot-4)

# the log's last seq, from the whole replay
LAST=$(grep -o '\.\.[0-9]*)' <<< "$W_WITHOUT" | tr -d '.)')
echo "# recovery bench $(date -u +%FT%TZ), $(nproc) cpu, $N events written, log ends at $LAST"
echo "generate (deskbench --pipeline 1000): $GEN"
echo "checkpoint at seq $CK: ${CKLINE#deskd info: }"
echo "sizes: log $(du -sh "$TMP/var/data.mdb" | cut -f1), derived $(du -sh "$TMP/var/derived/data.mdb" | cut -f1), checkpoint $CKSIZE"
echo "OS crash, checkpoint + tail, warm: $(show "$W_WITH")"
echo "OS crash, whole log, warm:         $(show "$W_WITHOUT")"
echo "OS crash, checkpoint + tail, cold: $(show "$C_WITH")"
echo "OS crash, whole log, cold:         $(show "$C_WITHOUT")"
