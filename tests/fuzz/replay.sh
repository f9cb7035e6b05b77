#!/bin/sh
# replay.sh FUZZER DIR...: runs every input kept in the DIRs that exist once, as a regression
# test (CTest's fuzz_regression_* tests). Fails if any input crashes, leaks or hangs.
set -eu
fuzzer=$1
shift
for dir in "$@"; do
  shift
  [ -d "$dir" ] && set -- "$@" "$dir"
done
exec "$fuzzer" -runs=0 -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 "$@"
