#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is needed, builds everything with warnings as errors and runs
# every test. Usage: scripts/test.sh [preset]   (debug by default; asan, release)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-debug}"

bash scripts/setup.sh
if [ ! -d ../shared/mls-vectors ]; then
  echo "test: ../shared/mls-vectors is missing (the shared test vectors live next to the checkout)" >&2
  exit 2
fi
# catch_discover_tests turns test names into a CMake list: ';', '[' or ']' in
# a name merges or hides the tests after it, which then never run.
if grep -rnE 'TEST_CASE\("[^"]*[][;]' tests; then
  echo "test: a Catch2 test name above contains ';', '[' or ']'; ctest would silently skip tests" >&2
  exit 2
fi
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs"
