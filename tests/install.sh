#!/usr/bin/env bash
# tests/install.sh - `make install` as an admin would run it, checked from
# the outside (make install-check, part of make test):
#   1. make install DESTDIR=<tmp>: every file where docs/INSTALL.md says;
#      the config's data_dir is the unit's StateDirectory
#   2. the installed deskd: --version, --check-config on the installed config
#      (and a broken line, a broken calendar line: exit 2 naming file:line)
#   3. the installed deskd started with the installed config (data dir,
#      ports and dashboard moved into the temp tree; the calendar and fee
#      schedule stay relative to the config file, the working directory is
#      /), a command sent with the installed deskctl, the dashboard served,
#      SIGTERM: exit 0, the event in the log (installed deskaudit), log lines
#      with syslog priorities when stderr is "the journal"
#   4. systemd-analyze verify on the unit (installed with a real PREFIX)
#   5. man -l renders each page with no warning; every key of
#      config/deskd.conf is in deskd.conf(5)
#   6. install again over a changed config keeps it; make uninstall leaves
#      only that changed file
# Prints one "ok" line per step; any failure exits 1 with deskd's log.
set -u
BUILD=${BUILD:-build}
REPO=$(pwd)
root=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$root"
}
trap cleanup EXIT
log=$root/deskd.log
fail() {
  echo "install-check: FAIL: $*" >&2
  [ -s "$log" ] && sed 's/^/  deskd: /' "$log" >&2
  exit 1
}
ok() { echo "install-check: ok: $*"; }
mk() { make --no-print-directory -C "$REPO" BUILD="$BUILD" "$@"; }

# ---- 1. make install DESTDIR ----
dest=$root/dest
pre=$dest/usr/local
mk install DESTDIR="$dest" >"$root/install.out" 2>&1 ||
  { cat "$root/install.out" >&2; fail "make install DESTDIR=$dest"; }
for f in bin/deskd bin/deskctl bin/deskaudit bin/deskbench \
  etc/deskd/deskd.conf etc/deskd/holidays.tsv etc/deskd/fees.tsv \
  share/deskd/dashboard/index.html share/deskd/dashboard/app.js \
  lib/systemd/system/deskd.service share/man/man8/deskd.8 \
  share/man/man1/deskctl.1 share/man/man1/deskaudit.1 \
  share/man/man5/deskd.conf.5; do
  [ -e "$pre/$f" ] || fail "make install did not install $f"
done
unit=$pre/lib/systemd/system/deskd.service
etc=$pre/etc/deskd
grep -qx 'data_dir = /var/lib/deskd' "$etc/deskd.conf" ||
  fail "installed deskd.conf: data_dir is not /var/lib/deskd"
grep -qx 'StateDirectory=deskd' "$unit" || fail "unit: no StateDirectory=deskd"
grep -qx 'ExecStart=/usr/local/bin/deskd -c /usr/local/etc/deskd/deskd.conf' \
  "$unit" || fail "unit: ExecStart does not name the installed paths"
ok "make install DESTDIR: $(find "$dest" -type f | wc -l) files, data_dir = StateDirectory"

# ---- 2. --version, --check-config ----
bin=$pre/bin
want=$(sed -n 's/^#define DESKD_VERSION "\(.*\)"/\1/p' "$REPO/core/version.h")
for t in deskd deskctl deskaudit; do
  [ "$("$bin/$t" --version)" = "$t $want" ] || fail "$t --version"
done
out=$(cd / && "$bin/deskd" -c "$etc/deskd.conf" --check-config 2>&1) ||
  fail "--check-config on the installed config: $out"
case "$out" in *"deskd.conf: ok: "*"data_dir /var/lib/deskd"*) ;;
  *) fail "--check-config summary: $out" ;; esac
ok "deskd, deskctl, deskaudit --version ($want); --check-config: $out"
line=$(grep -n '^batch_max = ' "$etc/deskd.conf" | cut -d: -f1)
sed 's/^batch_max = .*/batch_max = plenty/' "$etc/deskd.conf" >"$etc/bad.conf"
out=$("$bin/deskd" -c "$etc/bad.conf" --check-config 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "--check-config on a bad line exited $rc"
case "$out" in *"bad.conf:$line: [deskd] batch_max"*) ;;
  *) fail "--check-config names no line $line: $out" ;; esac
ok "--check-config, bad line: exit $rc, $out"
mkdir "$root/badcal"
cp "$etc/deskd.conf" "$etc/fees.tsv" "$root/badcal/"
{ head -5 "$etc/holidays.tsv"; printf '2026-02-30\tholiday\tNowhere\n'; } \
  >"$root/badcal/holidays.tsv"
out=$("$bin/deskd" -c "$root/badcal/deskd.conf" --check-config 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "--check-config on a bad calendar exited $rc"
case "$out" in *"holidays.tsv:6:"*) ;;
  *) fail "--check-config names no calendar line: $out" ;; esac
ok "--check-config, bad calendar line: exit $rc, $out"
rm -f "$etc/bad.conf"

# ---- 3. the installed deskd, the installed config ----
data=$root/data
conf=$etc/test.conf
sed -e "s|^data_dir = .*|data_dir = $data|" \
  -e 's|^commands = .*|commands = tcp://127.0.0.1:*|' \
  -e 's|^events = .*|events = tcp://127.0.0.1:*|' \
  -e 's|^http = .*|http = 127.0.0.1:0|' \
  -e "s|^dashboard_dir = \(.*\)|dashboard_dir = $dest\1|" \
  "$etc/deskd.conf" >"$conf"
mkdir "$data"
: >"$log"
start() {
  # stderr is "the journal": JOURNAL_STREAM names the log file's inode
  (cd / && JOURNAL_STREAM=$(stat -c '%d:%i' "$log") \
    exec "$bin/deskd" -c "$conf") >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    [ -s "$data/endpoints" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "installed deskd exited at start"
    sleep 0.05
  done
  fail "installed deskd wrote no endpoints"
}
stop() {
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  pid=
  [ $rc -eq 0 ] || fail "deskd exited $rc after SIGTERM"
}
start
ep=$(awk '$1 == "commands" {print $2}' "$data/endpoints")
http=$(awk '$1 == "http" {print $2}' "$data/endpoints")
out=$(cd / && "$bin/deskctl" -e "$ep" -a lina estate.register code=HY \
  name=华苑小区 2>&1) || fail "installed deskctl: $out"
case "$out" in *'"ok": true'*) ;; *) fail "estate.register: $out" ;; esac
exec 3<>"/dev/tcp/${http%:*}/${http##*:}" || fail "connect to http $http"
printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$http" >&3
page=$(cat <&3)
exec 3<&-
case "$page" in "HTTP/1."?" 200"*"<html"*) ;;
  *) fail "dashboard not served from the installed share dir: ${page:0:200}" ;; esac
stop
grep -q '^<6>signal 15: finishing queued commands and stopping' "$log" ||
  fail "no <6> (info) priority prefix in the journal-style log"
grep -Eq '^deskd (info|warn|error):' "$log" && fail "plain-format diagnostics in the journal-style log"
"$bin/deskaudit" verify "$data" >/dev/null 2>&1 || fail "deskaudit verify after SIGTERM"
hist=$("$bin/deskaudit" history "$data" estate:HY 2>&1) || fail "deskaudit history: $hist"
case "$hist" in *estate.registered*) ;; *) fail "event lost: $hist" ;; esac
start
out=$("$bin/deskctl" -e "$(awk '$1 == "commands" {print $2}' "$data/endpoints")" \
  -a lina estate.register code=HY name=again 2>&1)
case "$out" in *conflict*) ;; *) fail "restarted deskd lost the estate: $out" ;; esac
stop
ok "installed deskd from /, installed config: deskctl command, dashboard, SIGTERM exit 0, event kept across restart, <N> log prefixes"

# As the unit runs it: an unprivileged user (DynamicUser), no new
# privileges, umask 0077, a 0700 data directory it owns (StateDirectory).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
  chmod 0755 "$root"
  rm -rf "$data"
  install -d -o 65534 -g 65534 -m 0700 "$data"
  (cd / && umask 0077 && exec setpriv --reuid=65534 --regid=65534 \
    --clear-groups --no-new-privs "$bin/deskd" -c "$conf") >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    [ -s "$data/endpoints" ] && break
    kill -0 "$pid" 2>/dev/null || fail "deskd as an unprivileged user exited at start"
    sleep 0.05
  done
  out=$("$bin/deskctl" -e "$(awk '$1 == "commands" {print $2}' "$data/endpoints")" \
    -a lina estate.register code=HY name=华苑小区 2>&1)
  case "$out" in *'"ok": true'*) ;; *) fail "as an unprivileged user: $out" ;; esac
  stop
  bad=$(find "$data" ! -user 65534 -o -perm /077 -type f)
  [ -z "$bad" ] || fail "files not private to deskd's user: $bad"
  ok "installed deskd as uid 65534, no new privileges, umask 0077: command ok, SIGTERM exit 0, data files private"
fi
rm -f "$conf"

# ---- 4. the unit ----
# systemd-analyze verify checks that ExecStart exists, so the unit it reads
# is installed with a real PREFIX (no DESTDIR).
if ! command -v systemd-analyze >/dev/null 2>&1; then
  if apt-get -s install systemd 2>/dev/null | grep -q '^Remv'; then
    echo "install-check: SKIP: systemd-analyze missing and installing systemd would remove packages"
  else
    bash "$REPO/tools/need.sh" cmd:systemd-analyze=systemd >/dev/null ||
      fail "installing systemd for systemd-analyze"
  fi
fi
if command -v systemd-analyze >/dev/null 2>&1; then
  p2=$root/prefix
  mk install PREFIX="$p2" >/dev/null 2>&1 || fail "make install PREFIX=$p2"
  # Documentation= is checked with man: the installed pages must be found
  out=$(MANPATH=$p2/share/man systemd-analyze verify \
    "$p2/lib/systemd/system/deskd.service" 2>&1)
  rc=$?
  [ $rc -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (exit $rc): $out"
  ok "systemd-analyze verify deskd.service: no complaint ($(systemd-analyze --version | head -1))"
fi

# ---- 5. the man pages ----
bash "$REPO/tools/need.sh" cmd:man=man-db >/dev/null || fail "installing man-db"
for p in man8/deskd.8 man1/deskctl.1 man1/deskaudit.1 man5/deskd.conf.5; do
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$pre/share/man/$p" 2>&1 >"$root/page")
  [ -z "$out" ] || fail "man -l $p: $out"
  [ "$(wc -l <"$root/page")" -gt 20 ] || fail "man -l $p rendered almost nothing"
done
ncmd=$("$bin/deskctl" help | grep -c '^  [a-z]')
nit=$(grep -c '^\.It Cm ' "$pre/share/man/man1/deskctl.1")
[ "$ncmd" -eq "$nit" ] || fail "deskctl(1) lists $nit commands, the table has $ncmd"
for k in $(sed -n '/^\[\(operators\|keys\|http_tokens\)\]/,/^\[/d; s/^\([a-z_.]*\) = .*/\1/p' \
  "$REPO/config/deskd.conf" | sed 's/\..*/./' | sort -u); do
  grep -q "^\.It Cm .*${k//./\\.}" "$pre/share/man/man5/deskd.conf.5" ||
    fail "deskd.conf(5) does not describe '$k' (a key of config/deskd.conf)"
done
ok "man -l renders deskd(8) deskctl(1) deskaudit(1) deskd.conf(5) without warnings; deskctl(1) lists all $ncmd commands; deskd.conf(5) every key"

# ---- 6. install again, uninstall ----
echo '# changed here' >>"$etc/fees.tsv"
mk install DESTDIR="$dest" >"$root/install.out" 2>&1 || fail "make install again"
grep -q "kept $etc/fees.tsv" "$root/install.out" || fail "install did not say it kept fees.tsv"
tail -1 "$etc/fees.tsv" | grep -q changed || fail "install overwrote a changed fees.tsv"
[ -e "$etc/fees.tsv.new" ] || fail "no fees.tsv.new beside the changed one"
mk uninstall DESTDIR="$dest" >"$root/install.out" 2>&1 || fail "make uninstall"
left=$(cd "$dest" && find . -type f)
[ "$left" = "./usr/local/etc/deskd/fees.tsv" ] ||
  fail "make uninstall left: $left"
ok "install keeps a changed config (fees.tsv.new beside it); uninstall removes the rest"
