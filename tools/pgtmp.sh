#!/usr/bin/env bash
# tools/pgtmp.sh - a throwaway PostgreSQL in a directory, for the desksink
# tests and `make bench`: initdb, then a server listening only on a unix
# socket in that directory (no TCP port to collide with).
#
#   tools/pgtmp.sh start DIR     initdb (once) and start; prints the conninfo
#   tools/pgtmp.sh crash DIR     immediate stop (no checkpoint: recovery on
#                                the next start, as after kill -9), then start
#   tools/pgtmp.sh stop DIR      fast stop
#
# As root the server runs as the `postgres` user (PostgreSQL refuses root);
# DIR is handed to it. Needs the Debian postgresql package
# (tools/need.sh file:/usr/lib/postgresql/*/bin/initdb=postgresql).
set -euo pipefail
cmd=${1:?start|crash|stop} dir=${2:?DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pgctl() {
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 120 "$@" >/dev/null
}
opts="-k $dir -c listen_addresses= -p 5432"
case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ ! -d "$dir/data" ]; then
      chmod 755 "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_pg "$bin/initdb" -D "$dir/data" -U desk -A trust -E UTF8 \
        --locale=C.UTF-8 >/dev/null
    fi
    pgctl -o "$opts" start
    echo "host=$dir port=5432 user=desk dbname=postgres"
    ;;
  crash)
    pgctl -m immediate stop || true
    pgctl -o "$opts" start
    ;;
  stop)
    pgctl -m fast stop
    ;;
  *) echo "pgtmp.sh: unknown command $cmd" >&2; exit 2 ;;
esac
