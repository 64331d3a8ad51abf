#!/usr/bin/env bash
# tools/bench_sink.sh BUILD_DIR - desksink's throughput into PostgreSQL
# beside deskd's pipelined rate in the same run (`make bench` runs it; it
# runs on its own too). A real PostgreSQL in a temporary directory
# (tools/pgtmp.sh), a real deskd, deskbench pipelined 1000 in flight.
#   live:     the sink follows while deskbench runs; its rate is the events
#             divided by the time from the first command to the last event
#             committed in PostgreSQL (1.0x: it never falls behind)
#   catch-up: the same log again into an empty database, from seq 1
#             (log.read pages only): what the sink can take at most
# Env: SECS (10), SINK_BATCH (2000), SINK_COMPLAINTS (50000).
set -euo pipefail
BUILD=${1:-build}
SECS=${SECS:-10} BATCH=${SINK_BATCH:-2000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/bench_sink.XXXXXX)
chmod 755 "$TMP"   # the postgres user runs the server below it
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$HERE/tools/pgtmp.sh" stop "$TMP/pg" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }
now() { date +%s.%N; }
kv() { grep -o "\b$1=[^ ]*" <<< "$2" | head -1 | cut -d= -f2; }

bash "$HERE/tools/need.sh" 'file:/usr/lib/postgresql/*/bin/initdb=postgresql' \
  cmd:psql=postgresql-client
CONN=$(bash "$HERE/tools/pgtmp.sh" start "$TMP/pg")
q() { psql "$CONN" -qAtX -c "$1"; }

# shellcheck source=tools/benchlib.sh
. "$HERE/tools/benchlib.sh"
bench_conf "$TMP/deskd.conf" "$TMP/var" "http = 127.0.0.1:0" "sink = reader, Sink"
"$HERE/$BUILD/deskd" -c "$TMP/deskd.conf" > "$TMP/deskd.log" 2>&1 & PIDS+=($!)
EP=$(bench_endpoint "$TMP/var")
cat > "$TMP/sink.conf" <<CONF
[postgres]
conninfo = $CONN
[sink]
batch = $BATCH
[shard.bench]
endpoints = $TMP/var/endpoints
actor = sink
CONF

start_sink() { "$HERE/$BUILD/desksink" -c "$TMP/sink.conf" 2>> "$TMP/sink.log" & SINK=$!; PIDS+=($SINK); }
stop_sink() { kill "$SINK"; wait "$SINK" 2>/dev/null || true; }
wait_pos() { # until the sink's position is $1
  until [ "$(q "SELECT seq FROM desk.positions WHERE shard = 'bench'" 2>/dev/null)" = "$1" ]; do
    sleep 0.2
  done
}

log "sink live beside deskd pipelined 1000, ${SECS}s"
start_sink
until q "SELECT 1 FROM desk.positions" >/dev/null 2>&1; do sleep 0.1; done
t0=$(now)
out=$("$HERE/$BUILD/deskbench" -e "$EP" -t "$SECS" --pipeline 1000)
t_bench=$(now)
last=$("$HERE/$BUILD/deskctl" -e "$EP" -a sink log.read from=1 limit=1 |
  awk -F'[:,]' '/"last_seq"/{gsub(/ /,"",$2); print $2}')
wait_pos "$last"
t1=$(now)
stop_sink
drate=$(kv rate "$out")
live=$(awk -v n="$last" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", n/(b-a)}')
lag=$(awk -v a="$t_bench" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')

log "sink catch-up of the same $last events into an empty database"
q "DROP SCHEMA desk CASCADE" 2>/dev/null
: > "$TMP/sink.log"
start_sink
# the sink says when the writer has committed what the first catch-up read
until grep -q "caught up to seq $last" "$TMP/sink.log"; do sleep 0.2; done
stop_sink
catch=$(grep -o "caught up to seq $last: .*(\([0-9]*\)/s)" "$TMP/sink.log" |
  sed 's/.*(\([0-9]*\)\/s)/\1/')
[ "$(q "SELECT count(*) FROM desk.events")" = "$last" ] || { echo "bench_sink: event count differs" >&2; exit 1; }

# Complaint events: every one goes through the SQL fold (desk.apply).
# cmpbench: N complaints received pipelined, then N escalations fired.
log "sink catch-up of a complaints log (${SINK_COMPLAINTS:=50000} received + escalated)"
sed -i "s|^data_dir = .*|data_dir = $TMP/var2|" "$TMP/deskd.conf"
printf '[time]\nclock = manual\nmanual_start = 2026-03-02T09:00:00+08:00\ncalendar = %s\n' \
  "$HERE/config/holidays.tsv" >> "$TMP/deskd.conf"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
"$HERE/$BUILD/deskd" -c "$TMP/deskd.conf" > "$TMP/deskd2.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do [ -f "$TMP/var2/endpoints" ] && break; sleep 0.1; done
EP=$(awk '/^commands/{print $2}' "$TMP/var2/endpoints")
cmp_out=$("$HERE/$BUILD/cmpbench" -e "$EP" -n "$SINK_COMPLAINTS")
cmp_rate=$(kv receive_per_s "$cmp_out")
last2=$("$HERE/$BUILD/deskctl" -e "$EP" -a sink log.read from=1 limit=1 |
  awk -F'[:,]' '/"last_seq"/{gsub(/ /,"",$2); print $2}')
sed -i "s|^\[shard.bench\]|[shard.cmp]|; s|/var/endpoints|/var2/endpoints|" "$TMP/sink.conf"
: > "$TMP/sink.log"
start_sink
until grep -q "caught up to seq $last2" "$TMP/sink.log"; do sleep 0.2; done
stop_sink
fold=$(grep -o "caught up to seq $last2: .*(\([0-9]*\)/s)" "$TMP/sink.log" |
  sed 's/.*(\([0-9]*\)\/s)/\1/')
open_sql=$(q "SELECT count(*) FROM desk.complaints WHERE shard = 'cmp' AND state <> 'closed'")

echo "# sink $(date -u +%FT%TZ), $(nproc) cpu, batch $BATCH, ${SECS}s"
printf 'row\tevents/s\tratio to deskd\n%s\t%s\t1.00\n%s\t%s\t%s\n%s\t%s\t%s\n' \
  "deskd pipelined 1000 (unit.register)" "$drate" \
  "desksink live (last event ${lag}s after the bench)" "$live" \
  "$(awk -v a="$live" -v b="$drate" 'BEGIN{printf "%.2f", a/b}')" \
  "desksink catch-up from seq 1" "$catch" \
  "$(awk -v a="$catch" -v b="$drate" 'BEGIN{printf "%.2f", a/b}')" | column -t -s$'\t'
echo "complaints: deskd complaint.receive pipelined $cmp_rate/s; sink catch-up" \
  "of $last2 complaint events through the fold $fold/s" \
  "($(awk -v a="$fold" -v b="$cmp_rate" 'BEGIN{printf "%.2f", a/b}')x); open in SQL: $open_sql"
