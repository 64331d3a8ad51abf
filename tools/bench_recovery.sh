#!/usr/bin/env bash
# tools/bench_recovery.sh BUILD_DIR - recovery after a simulated OS crash,
# with and without a checkpoint of derived state (part of `make bench`,
# also runs alone). One deskd, checkpoint_events = N - TAIL, is filled with
# N unit.register events by deskbench's pipelined mode, so its one
# checkpoint is TAIL events before the end. Then, on that same log:
#   1. kill -9 and start as after a reboot (another DESKD_BOOT_ID): deskd
#      restores the checkpoint and replays the tail;
#   2. kill -9, the checkpoint removed, the same: it replays the whole log.
# Each line: ms from start until deskd logs "ready", and the log's events
# per second of that. Env: RECOVERY_EVENTS (N, default 1,000,000; 0 skips),
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

cat > "$TMP/deskd.conf" <<CONF
[deskd]
data_dir = $TMP/var
commands = tcp://127.0.0.1:*
events = tcp://127.0.0.1:*
http = off
map_size_mb = 1024
checkpoint_events = $((N - TAIL))
checkpoint_interval_s = 0
[operators]
admin = admin, Admin
bench = clerk, Bench
CONF
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
GEN=$("$HERE/$BUILD/deskbench" -e "$EP" -n "$N" --pipeline 1000 --room-prefix '')
until [ -f "$TMP/var/derived.ckpt/checkpoint" ]; do sleep 0.05; done
CK=$(awk '/^seq /{print $2}' "$TMP/var/derived.ckpt/checkpoint")
CKLINE=$(grep 'checkpoint of seq' "$TMP/deskd.log" | tail -1)
crash

recover() { # boot id -> "ms replayed-line"
  local t0 t1
  t0=$(ms)
  DESKD_BOOT_ID="$1" start
  t1=$(ms)
  echo "$((t1 - t0)) ms; $(grep -o 'replaying [0-9]* events ([0-9.]*)' "$TMP/deskd.log" | tail -1); $(grep -o 'replaying: .*' "$TMP/deskd.log" | tail -1)"
  crash
}
log "recovery: from the checkpoint"
WITH=$(recover bench-boot-1)
log "recovery: from the whole log"
rm -rf "$TMP/var/derived.ckpt"
WITHOUT=$(recover bench-boot-2)

echo "# recovery bench $(date -u +%FT%TZ), $(nproc) cpu, $N events written"
echo "generate (deskbench --pipeline 1000): $GEN"
echo "checkpoint at seq $CK: ${CKLINE#deskd info: }"
echo "sizes: log $(du -sh "$TMP/var/data.mdb" | cut -f1), derived $(du -sh "$TMP/var/derived/data.mdb" | cut -f1)"
echo "OS crash, checkpoint restored + tail: $WITH"
echo "OS crash, whole log replayed:         $WITHOUT"
