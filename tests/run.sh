#!/usr/bin/env bash
# tests/run.sh - runs every test program given, adds up cmocka's counts and
# ends with one line "N passed, N failed, N skipped" (a skipped test prints
# "SKIPPED: <why>", repeated in that line, e.g. "/dev/fuse missing"). Exit
# status 1 if any failed; a skip is not a failure, but it is never silent.
set -u
passed=0 failed=0 skipped=0 broken=() why=
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
  echo "== $t"
  "$t" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$out" | awk '{s+=$NF} END {print s+0}')
  f=$(grep -Eo '\[  FAILED  \] [0-9]+' "$out" | awk '{s+=$NF} END {print s+0}')
  k=$(grep -Eo '\[  SKIPPED \] [0-9]+' "$out" | awk '{s+=$NF} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
  w=$(sed -n 's/^SKIPPED: //p' "$out" | sort -u | paste -sd ';' -)
  case "$why" in *"$w"*) ;; *) [ -n "$w" ] && why="${why:+$why; }$w" ;; esac
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken+=("$t (exit $rc)"); fi
done
[ ${#broken[@]} -gt 0 ] && printf 'crashed: %s\n' "${broken[@]}"
echo
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped SKIPPED (${why:-no reason given})"
else
  echo "tests: $passed passed, $failed failed, 0 skipped"
fi
[ "$failed" -eq 0 ]
