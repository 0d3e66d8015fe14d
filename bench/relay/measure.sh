#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs scenarios a, b and c ROUNDS times (default 3) with a fresh relay each
# time and prints one JSON object per run. On a shared machine, compare the
# runs' "others_cpu_pct": a figure taken while other processes competed for
# the two cores is not the relay's.
#   bench/relay/measure.sh [ROUNDS] [BUILD_DIR] [extra hearth-bench options...]
set -uo pipefail
rounds="${1:-3}"
build="${2:-build/release}"
shift $(( $# > 2 ? 2 : $# ))
bench="$build/bench/relay/hearth-bench"
[ -x "$bench" ] || { echo "measure: $bench is missing; build the hearth-bench and hearth-relay targets" >&2; exit 1; }
for ((i = 1; i <= rounds; i++)); do
  for s in a b c; do
    "$bench" --scenario "$s" --duration 10 --warmup 3 --json "$@" 2>/dev/null
    echo "measure: round $i scenario $s exit $?" >&2
  done
done
