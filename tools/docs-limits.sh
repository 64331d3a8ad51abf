#!/usr/bin/env bash
# tools/docs-limits.sh - part of `make docs-check`: every number the docs
# state for a named limit equals the one in the generated limits table of
# docs/PROTOCOL.md (itself generated from the config defaults and core
# constants). A line that names a limit (`pub_hwm`, ...) and gives its value
# ("`pub_hwm` = 10,000", "pub_hwm, default 10,000", a table row "| `pub_hwm`
# | ... | 10000 |", "10,000 events (`pub_hwm`)") must give the table's value.
set -euo pipefail
cd "$(dirname "$0")/.."
names="pub_hwm batch_max sse_lag_max BUS_HWM"
table=$(sed -n '/^## Limits$/,/^## Command reference$/p' docs/PROTOCOL.md)
bad=0
for n in $names; do
  want=$(grep -F "\`$n\`" <<< "$table" | grep -oE "\`$n\` = [0-9]+|[0-9]+ messages[^|]*\`$n\`" |
         grep -oE '[0-9]+' | head -1)
  [ -n "$want" ] || { echo "docs-limits: '$n' is not in the limits table"; bad=1; continue; }
  while IFS= read -r hit; do
    file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}; text=${rest#*:}
    got=$(perl -ne 'my $n = quotemeta("'"$n"'");
      if (/`?$n`? *= *([0-9][0-9,]*)\b/ || /`?$n`?[^|0-9]{0,12}default ([0-9][0-9,]*)\b/) { print $1 }
      elsif (/^\| `$n` \|.*?\| ([0-9][0-9,]*) \|/) { print $1 }
      elsif (/\b([0-9][0-9,]*)\b[^0-9|]{0,25}\(`$n`\)/) { print $1 }' <<< "$text")
    got=${got//,/}
    if [ -n "$got" ] && [ "$got" != "$want" ]; then
      echo "docs-limits: $file:$line says $n is $got; deskd's is $want"
      bad=1
    fi
  done < <(grep -nF "$n" docs/*.md README.md | grep -v '^docs/PROTOCOL.md:' || true)
done
exit $bad
