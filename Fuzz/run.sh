#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 10) on a copy of its seed
# corpus. Exits non-zero, with the crashing input saved under Fuzz/crashes/, if any target fails.
#   Fuzz/run.sh            # a short smoke run of every target
#   Fuzz/run.sh 600 csv    # ten minutes on one target
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-10}"
only="${2:-}"
swift build -c debug --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld -Xswiftc -enable-testing 2>&1 | tail -3
binary="$(swift build -c debug --scratch-path .build-fuzz --show-bin-path)/ResilienceFuzz"
mkdir -p crashes
status=0
for corpus in Corpus/*/; do
  target="$(basename "$corpus")"
  [ -n "$only" ] && [ "$only" != "$target" ] && continue
  work="$(mktemp -d)"
  cp -R "$corpus". "$work/"
  echo "fuzz: $target for ${seconds}s"
  if ! FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
      "$binary" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="crashes/$target-" -print_final_stats=1 2>"$work.log"; then
    echo "fuzz: $target FAILED; see Fuzz/crashes/ and the log below" >&2
    tail -40 "$work.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$work.log" | sed "s/^/fuzz: $target /" || true
  fi
  rm -rf "$work" "$work.log"
done
exit $status
