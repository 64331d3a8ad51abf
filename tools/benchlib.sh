# tools/benchlib.sh - sourced by the bench scripts: the deskd they start.

# bench_conf FILE DATA_DIR [DESKD_LINES] [TAIL]: a deskd config on free
# ports with a 1 GiB map and the admin and bench operators. DESKD_LINES
# go into [deskd]; TAIL follows the bench operator (more operators, or
# whole sections).
bench_conf() {
  cat > "$1" <<CONF
[deskd]
data_dir = $2
commands = tcp://127.0.0.1:*
events = tcp://127.0.0.1:*
map_size_mb = 1024
${3:-}
[operators]
admin = admin, Admin
bench = clerk, Bench
${4:-}
CONF
}

# bench_endpoint DATA_DIR [TENTHS]: waits up to TENTHS tenths of a second
# (100) for deskd's endpoints file, then prints its command endpoint.
bench_endpoint() {
  for _ in $(seq "${2:-100}"); do [ -f "$1/endpoints" ] && break; sleep 0.1; done
  awk '/^commands/{print $2}' "$1/endpoints"
}
