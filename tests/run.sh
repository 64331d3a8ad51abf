#!/usr/bin/env bash
# tests/run.sh - runs every test program given, adds up cmocka's counts and
# ends with one line "N passed, N failed". Exit status 1 if any failed.
set -u
passed=0 failed=0 broken=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
  echo "== $t"
  "$t" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$out" | awk '{s+=$NF} END {print s+0}')
  f=$(grep -Eo '\[  FAILED  \] [0-9]+' "$out" | awk '{s+=$NF} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken+=("$t (exit $rc)"); fi
done
[ ${#broken[@]} -gt 0 ] && printf 'crashed: %s\n' "${broken[@]}"
echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
