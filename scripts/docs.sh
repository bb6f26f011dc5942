#!/usr/bin/env bash
# Builds the DocC documentation of the QMP library into .build/docs/QMP.doccarchive with the
# toolchain's docc, and fails on any warning (an unresolved symbol link, an ambiguous article).
# The symbol graph is extracted from the debug build's module, so nothing is compiled twice.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --target QMP
bin="$(swift build --show-bin-path)"
graphs=.build/docs/symbol-graphs
output=.build/docs/QMP.doccarchive
rm -rf "$graphs" "$output"
mkdir -p "$graphs" "$(dirname "$output")"
# QMP imports NIO, whose C shims need their module maps and headers to load.
clang_args=()
while IFS= read -r map; do clang_args+=(-Xcc "-fmodule-map-file=$map"); done \
  < <(find "$bin" -maxdepth 2 -name module.modulemap)
while IFS= read -r include; do clang_args+=(-Xcc "-I$include"); done \
  < <(find .build/checkouts -path '*/include' -type d)
swift-symbolgraph-extract -module-name QMP -I "$bin/Modules" -target "$(uname -m)-unknown-linux-gnu" \
  -minimum-access-level public -output-dir "$graphs" "${clang_args[@]}"
docc convert Sources/QMP/QMP.docc --fallback-display-name QMP --fallback-bundle-identifier qmp-shell.QMP \
  --additional-symbol-graph-dir "$graphs" --output-path "$output" --warnings-as-errors
echo "documentation: $output"
