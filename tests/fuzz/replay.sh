#!/bin/sh
# replay.sh FUZZER CORPUS [DIR...]: runs every input kept in CORPUS and in the DIRs that exist
# once, as a regression test (CTest's fuzz_regression_* tests). Fails if any input crashes,
# leaks or hangs, or if CORPUS is missing (a misspelt corpus must not pass by running nothing).
set -eu
fuzzer=$1
shift
[ -d "$1" ] || { echo "replay.sh: no corpus directory $1" >&2; exit 1; }
for dir in "$@"; do
  shift
  [ -d "$dir" ] && set -- "$@" "$dir"
done
exec "$fuzzer" -runs=0 -timeout=25 -rss_limit_mb=4096 -print_final_stats=1 "$@"
