#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is needed, builds hearth-relay and runs it on its embedded
# defaults: data in ./hearth-data (SQLite), a self-signed certificate made on
# first start, listening on 127.0.0.1:7443. Extra arguments go to the relay.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
jobs="$(nproc 2>/dev/null || echo 2)"
cmake --preset release > /dev/null
cmake --build --preset release -j "$jobs" --target hearth-relay hearth-cli
exec ./build/release/server/hearth-relay "$@"
