#!/usr/bin/env bash
# `make fuzz FUZZ_SECONDS=N`: builds the three libFuzzer targets with the address sanitizer and runs
# each for N seconds from its seed corpus (Fuzz/corpus/TARGET: real QEMU traffic and shell lines).
# Exits non-zero on any crash; crashing inputs are kept in .build-fuzz/artifacts/.
#
#   json-parser      Sources/QMP/JSON + Fuzz/JSONParserFuzz.swift, compiled as one module
#   line-parser      the line-syntax module (Sources/QMPLineSyntax) + Fuzz/LineParserFuzz.swift, against the JSON
#                    sources as module QMP
#   message-routing  the QMP module built by SwiftPM with -DQMP_FUZZING (Sources/QMP/Fuzzing/), NIO included
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=.build-fuzz
mkdir -p "$out/artifacts" "$out/work"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6)
# gold warns about ASan's local symbols on every link; nothing to act on.
quiet() { "$@" 2>&1 | { grep -v 'ld.gold: warning' || true; }; return "${PIPESTATUS[0]}"; }

echo "== building json-parser"
quiet swiftc "${flags[@]}" -module-name JSONFuzz Sources/QMP/JSON/*.swift Fuzz/JSONParserFuzz.swift -o "$out/json-parser"

echo "== building line-parser"
quiet swiftc "${flags[@]}" -emit-library -static -emit-module -module-name QMP Sources/QMP/JSON/*.swift \
  -emit-module-path "$out/QMP.swiftmodule" -o "$out/libQMP.a"
quiet swiftc "${flags[@]}" -module-name LineParserFuzz -I "$out" -L "$out" -lQMP \
  Sources/QMPLineSyntax/*.swift \
  Fuzz/LineParserFuzz.swift -o "$out/line-parser"

echo "== building message-routing"
swift build --scratch-path "$out/spm" --target QMP -Xswiftc -sanitize=fuzzer,address -Xswiftc -DQMP_FUZZING \
  2>&1 | { grep -E 'error|warning:' || true; }
objects=()
build_dir="$out/spm/debug/"
while IFS= read -r -d '' object; do objects+=("$object"); done < <(find "$build_dir" -path "$build_dir*.build/*" \
  -name '*.o' -not -path '*Tests.build/*' -not -path '*-tool.build/*' -not -path '*/qmp_shell*.build/*' \
  -not -path '*/qmp_bench.build/*' -not -path '*/QMPShell.build/*' -not -path '*/QMPTestSupport.build/*' -print0)
quiet swiftc -sanitize=fuzzer,address "${objects[@]}" -o "$out/message-routing"

status=0
for target in json-parser line-parser message-routing; do
  echo "== fuzzing $target for ${seconds}s"
  rm -rf "$out/work/$target"
  mkdir -p "$out/work/$target"
  if ! "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$out/artifacts/$target-" -print_final_stats=1 \
      "$out/work/$target" "Fuzz/corpus/$target" > "$out/$target.log" 2>&1; then
    echo "!! $target crashed: see $out/$target.log and $out/artifacts/"
    grep -A 30 -E "ERROR|Fatal error|deadly signal" "$out/$target.log" | head -60
    status=1
  else
    grep -E "stat::number_of_executed_units|^Done" "$out/$target.log" | tail -1
  fi
done
exit $status
