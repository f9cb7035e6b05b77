#!/usr/bin/env bash
# Builds the fuzz targets (clang, ASan+UBSan) and fuzzes each one, then keeps what it found:
# new inputs that add coverage are merged into tests/fuzz/corpus/<target>/, and every input
# that crashed, leaked, hung or ran out of memory is saved in tests/fuzz/regressions/<target>/
# (both are replayed by the CTest tests fuzz_regression_<target>).
#
#   tests/fuzz/run_fuzzers.sh [options] [target...]      (default: every target)
#     -b DIR      build directory (default: build-fuzz); configured if it has no CMakeCache.txt
#     -n RUNS     executions per target (default: 10000000)
#     -t SECONDS  time per target, whichever limit comes first (default: 3600)
#     -j N        targets fuzzed at once (default: 1)
#     -B          do not build
#     -M          do not merge new inputs into the kept corpus
#     -R          do not fuzz: only merge what an earlier run left in DIR/fuzz-runs/<target>/new
#     -k BYTES    largest new input worth keeping (default: 4096)
#
# Logs and scratch corpora go to DIR/fuzz-runs/<target>/; a summary line per target is printed
# at the end (and kept in DIR/fuzz-runs/<target>/summary.txt). After a crash the target is
# fuzzed again with what is left of its budget, at most 5 times. The merge keeps the corpus
# small: only new inputs of at most -k bytes are candidates, and of those only a smallest set
# that adds edge coverage (hit counts ignored) to the kept corpus is added.
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$FUZZ_DIR/../.." && pwd)
TARGETS_ALL=(webhook_request webhook_http webhook_payload secret_sealer request_validation)

build_dir=$ROOT/build-fuzz
runs=10000000
seconds=3600
jobs=1
do_build=1
do_merge=1
do_fuzz=1
keep_bytes=4096
while getopts "b:n:t:j:k:BMRh" opt; do
  case $opt in
    b) build_dir=$(realpath -m "$OPTARG") ;;
    n) runs=$OPTARG ;;
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    B) do_build=0 ;;
    M) do_merge=0 ;;
    R) do_fuzz=0; do_build=0 ;;
    k) keep_bytes=$OPTARG ;;
    *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${TARGETS_ALL[@]}")
for t in "${targets[@]}"; do
  if [ ! -d "$FUZZ_DIR/corpus/$t" ] || ! [[ " ${TARGETS_ALL[*]} " == *" $t "* ]]; then
    printf '== unknown target %s (one of: %s)\n' "$t" "${TARGETS_ALL[*]}" >&2
    exit 2
  fi
done

log() { printf '== %s\n' "$*" >&2; }

if [ "$do_build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    log "configuring $build_dir"
    cmake -S "$ROOT" -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DLINECHANNEL_SANITIZE=address \
      -DLINECHANNEL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  log "building ${targets[*]} in $build_dir"
  build_targets=()
  for t in "${targets[@]}"; do build_targets+=(--target "${t}_fuzzer"); done
  nice cmake --build "$build_dir" -j"${JOBS:-2}" "${build_targets[@]}"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# "files bytes" of the inputs in a directory.
corpus_size() {
  if [ -d "$1" ]; then
    printf '%s %s' "$(find "$1" -type f | wc -l)" "$(find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
  else
    printf '0 0'
  fi
}

fuzz_one() {
  local name=$1
  local fuzzer=$build_dir/tests/fuzz/${name}_fuzzer
  local work=$build_dir/fuzz-runs/$name
  local kept=$FUZZ_DIR/corpus/$name
  local saved=$FUZZ_DIR/regressions/$name
  [ "$do_fuzz" = 1 ] && rm -rf "$work"
  mkdir -p "$work/new" "$work/artifacts" "$kept"
  local dict=()
  [ -f "$FUZZ_DIR/$name.dict" ] && dict=(-dict="$FUZZ_DIR/$name.dict")
  local before
  before=$(corpus_size "$kept")

  local start=$SECONDS done_runs=0 attempt=0 findings=0 last="" total_time=0
  while [ "$do_fuzz" = 1 ] && [ $attempt -lt 6 ]; do
    attempt=$((attempt + 1))
    local left_runs=$((runs - done_runs)) left_time=$((seconds - (SECONDS - start)))
    [ $left_runs -gt 0 ] && [ $left_time -gt 0 ] || break
    local out=$work/fuzz-$attempt.log
    log "$name: fuzzing (attempt $attempt: up to $left_runs runs, ${left_time}s)"
    local rc=0
    (cd "$work" && nice -n 10 "$fuzzer" -runs="$left_runs" -max_total_time="$left_time" \
      "${dict[@]}" -artifact_prefix="$work/artifacts/" -timeout=25 -rss_limit_mb=4096 \
      -print_final_stats=1 "$work/new" "$kept") >"$out" 2>&1 || rc=$?
    # Executions: the final stats, or the last status line before a crash.
    local n
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
    [ -n "$n" ] || n=$(grep -ao '^#[0-9]*' "$out" | tail -1 | tr -d '#')
    done_runs=$((done_runs + ${n:-0}))
    last=$(grep -a -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$out" | tail -1 || true)
    if [ $rc -eq 0 ]; then break; fi
    local found=0
    for artifact in "$work"/artifacts/*; do
      [ -f "$artifact" ] || continue
      mkdir -p "$saved"
      mv "$artifact" "$saved/"
      log "$name: kept $(basename "$artifact") in ${saved#"$ROOT"/} (log: $out)"
      found=1
      findings=$((findings + 1))
    done
    if [ $found -eq 0 ]; then
      log "$name: fuzzer failed (rc=$rc) without an artifact; see $out"
      break
    fi
  done
  total_time=$((SECONDS - start))

  local after=$before
  if [ "$do_merge" = 1 ]; then
    log "$name: merging new inputs into ${kept#"$ROOT"/}"
    rm -rf "$work/candidates"
    mkdir -p "$work/candidates"
    find "$work/new" -type f -size -$((keep_bytes + 1))c -exec cp -t "$work/candidates" {} +
    (cd "$work" && nice -n 10 "$fuzzer" -set_cover_merge=1 -use_counters=0 -timeout=25 \
      -rss_limit_mb=4096 "$kept" "$work/candidates") >"$work/merge.log" 2>&1 ||
      log "$name: merge failed, see $work/merge.log"
    after=$(corpus_size "$kept")
  fi
  local exec_s=0
  [ $total_time -gt 0 ] && exec_s=$((done_runs / total_time))
  local line
  line=$(printf '%-20s runs=%s time=%ss exec/s=%s %s corpus(files bytes): %s -> %s findings=%s' \
    "$name" "$done_runs" "$total_time" "$exec_s" \
    "$(sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/' <<<"$last")" "$before" "$after" "$findings")
  echo "$line" >"$work/summary.txt"
}

mkdir -p "$build_dir/fuzz-runs"
running=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
log "summary:"
for t in "${targets[@]}"; do cat "$build_dir/fuzz-runs/$t/summary.txt"; done
