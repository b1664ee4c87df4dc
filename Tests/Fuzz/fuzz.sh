#!/usr/bin/env bash
# Builds the libFuzzer targets of Tests/Fuzz and runs each one for a bounded time or number of
# executions, one process at a time. Prints a line per target (executions, crashes, seconds) and
# exits 1 when any target crashed, hung (-timeout) or ran out of memory (-rss_limit_mb).
#
#   Tests/Fuzz/fuzz.sh --runs 1000000                      every target, a million executions each
#   Tests/Fuzz/fuzz.sh --seconds 20 --target KTAPParser    one target, 20 seconds
#   Tests/Fuzz/fuzz.sh --seconds 300 --max-len 1048576 -- -len_control=0   long inputs (quadratic time?)
#   Tests/Fuzz/fuzz.sh --runs 1000000 --target ConsoleReplay --workers 2   one target on two cores
#
# Options: --runs N, --seconds S (at least one), --target NAME (repeatable; default all),
# --max-len BYTES (default per target, below; the recorded consoles and reports are cut to fit), --timeout S
# (one input; default 10), --workers N (libFuzzer's fork mode: N processes share the corpus and the
# counts are their sum; default 1), --build-only. Arguments after `--` go to libFuzzer as they are.
# Crashing inputs are kept in .build-libfuzzer/artifacts/<target>/ and libFuzzer's output of the
# last run in .build-libfuzzer/logs/<target>.log; the seed corpus and the inputs found live in a
# temporary folder that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The targets: Tests/Fuzz/<target>Fuzz.swift, the dictionary and seeds it starts from
# (fuzz_inputs.py dict/seeds KIND), and the longest input it is given unless --max-len says
# otherwise. The parsers' cost grows with the input (about 3 ms per KiB of console under ASan and
# coverage), so a short max_len is what makes a million executions take minutes, not hours.
targets_table="
KTAPParser        ktap        consoles            2048
ConsoleReplay     ktap        consoles-with-qemu  2048
ConsoleScanner    ktap        consoles            2048
ReportLoader      report      reports             4096
WaiverLoader      waivers     waivers             2048
"

runs="" seconds="" max_len="" timeout=10 workers=1 build_only=0 selected=() extra=()
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --target) selected+=("${2:?--target needs a name}"); shift 2 ;;
    --max-len) max_len="${2:?--max-len needs a number}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a number}"; shift 2 ;;
    --workers) workers="${2:?--workers needs a number}"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "fuzz.sh: unknown option $1" >&2; usage ;;
  esac
done
all_targets=($(awk 'NF == 4 { print $1 }' <<<"$targets_table"))
[ ${#selected[@]} -gt 0 ] || selected=("${all_targets[@]}")
for target in "${selected[@]}"; do
  [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target $target; valid: ${all_targets[*]}" >&2; exit 2; }
done
if [ "$build_only" = 0 ] && [ -z "$runs" ] && [ -z "$seconds" ]; then
  echo "fuzz.sh: give --runs N or --seconds S" >&2
  exit 2
fi

# --- build ---------------------------------------------------------------------------------------
# The HarnessCore files the targets need are derived from the targets' own sources (see
# fuzz_inputs.py); they are compiled once, instrumented, as a module HarnessCore that each target
# links, so a target sees HarnessCore's internal API through @testable import.
build=.build-libfuzzer
mkdir -p "$build"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g)
mapfile -t sources < <(python3 Tests/Fuzz/fuzz_inputs.py sources Tests/Fuzz/*.swift)
stamp=$( { swiftc --version 2>&1; echo "${flags[*]}"; cat "${sources[@]}" Tests/Fuzz/*.swift; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$build/stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "fuzz.sh: building HarnessCore (${#sources[@]} files) and ${#all_targets[@]} targets into $build" >&2
  rm -f "$build/stamp"
  # ld.gold warns about every ASan symbol it cannot export; those lines carry no information.
  swiftc "${flags[@]}" -module-name HarnessCore -enable-testing -wmo \
    -emit-module -emit-module-path "$build/HarnessCore.swiftmodule" -emit-object -o "$build/HarnessCore.o" \
    "${sources[@]}" 2>&1 | { grep -v "Cannot export local symbol" || true; }
  for target in "${all_targets[@]}"; do
    # Absolute paths: the targets find the fixtures through #filePath, from any working directory.
    swiftc "${flags[@]}" -module-name "${target}Fuzz" -I "$build" \
      "$PWD/Tests/Fuzz/FuzzSupport.swift" "$PWD/Tests/Fuzz/${target}Fuzz.swift" "$build/HarnessCore.o" -o "$build/$target" \
      2>&1 | { grep -v "Cannot export local symbol" || true; }
    [ -x "$build/$target" ] || { echo "fuzz.sh: building $target failed" >&2; exit 3; }
  done
  echo "$stamp" > "$build/stamp"
fi
[ "$build_only" = 0 ] || exit 0

# --- run -----------------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/dma-harness-fuzz.XXXXXX")
# A target runs in the background so that a signal to this script reaches the trap at once; the
# trap stops the target before removing the folder it writes to (otherwise it may make it again).
target_pid=""
# (`|| true`: under set -e, the target's own exit status would end the trap before the rm.)
trap '[ -z "$target_pid" ] || { kill "$target_pid" 2>/dev/null; wait "$target_pid" 2>/dev/null || true; }; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$work/tmp"
# The full nine-target run is kept xz-compressed in git; the waiver target applies waivers to it.
xz -dc Tests/HarnessCoreTests/Fixtures/reports/run1-all/report.json.xz > "$work/run1-report.json"
export TMPDIR="$work/tmp" DMA_HARNESS_FUZZ_RUN1_REPORT="$work/run1-report.json"
symbolizer="$(dirname "$(command -v swiftc)")/llvm-symbolizer"
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
# A smaller quarantine than ASan's 256 MiB: Swift code frees a lot, and the freed memory's pages
# are what most of the time went to. Leaks of Foundation's own are suppressed (lsan.supp).
# libFuzzer reports a crash itself; Swift's backtracer would add a process per crash and half a minute.
export SWIFT_BACKTRACE=enable=no
# No allocation and free stacks (malloc_context_size=0): unwinding at every malloc was a sixth of
# ConsoleReplay's time. A crash's "again:" line runs without these options, so it has them.
export ASAN_OPTIONS="quarantine_size_mb=32:malloc_context_size=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/Tests/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

fuzz_flags=(-timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1)
[ -n "$runs" ] && fuzz_flags+=(-runs="$runs")
[ -n "$seconds" ] && fuzz_flags+=(-max_total_time="$seconds")
[ "$workers" -gt 1 ] && fuzz_flags+=(-fork="$workers")
failed=()
for target in "${selected[@]}"; do
  read -r _ dictionary kind target_max_len < <(awk -v t="$target" '$1 == t' <<<"$targets_table")
  length=${max_len:-$target_max_len}
  seeds="$work/seeds/$target" corpus="$work/corpus/$target" artifacts="$build/artifacts/$target"
  log="$build/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$build/logs"
  python3 Tests/Fuzz/fuzz_inputs.py seeds "$kind" "$length" "$seeds"
  python3 Tests/Fuzz/fuzz_inputs.py dict "$dictionary" "$work/$dictionary.dict"
  before=$(ls "$artifacts" | wc -l)
  started=$EPOCHREALTIME
  rc=0
  "$build/$target" "${fuzz_flags[@]}" -max_len="$length" -dict="$work/$dictionary.dict" -artifact_prefix="$artifacts/" \
    "${extra[@]}" "$corpus" "$seeds" > "$log" 2>&1 &
  target_pid=$!
  wait "$target_pid" || rc=$?
  target_pid=""
  elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$executions" ] || executions=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  mapfile -t found < <(ls -t "$artifacts" | head -n $(( $(ls "$artifacts" | wc -l) - before )))
  crashes=${#found[@]}
  [ "$rc" = 0 ] || [ "$crashes" -gt 0 ] || crashes=1
  printf 'fuzz %-15s %10s executions  %d crashes  %6.1f s  (corpus %d seeds + %d found, max_len %d)\n' \
    "$target" "${executions:-?}" "$crashes" "$elapsed" "$(ls "$seeds" | wc -l)" "$(ls "$corpus" | wc -l)" "$length"
  if [ "$crashes" -gt 0 ]; then
    failed+=("$target")
    # What went wrong, the first frames of the trace, and how to run the input again.
    grep -E "Fatal error|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|ALARM: working|out-of-memory \(" "$log" | head -3 | sed 's/^/  /' || true
    grep -E '^ *#[0-9]+ 0x' "$log" | head -12 | swift demangle --simplified | sed 's/^/  /' || true
    for artifact in "${found[@]}"; do
      echo "  input: $artifacts/$artifact"
      echo "  again: DMA_HARNESS_FUZZ_RUN1_REPORT=<unpacked run1-all/report.json> $build/$target $artifacts/$artifact"
    done
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${failed[*]} crashed, hung or ran out of memory" >&2
  exit 1
fi
