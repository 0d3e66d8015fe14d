#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package Hearth needs to build, test and run.
# Idempotent: packages already present are left alone, and apt-get update
# runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libsodium-dev
  libboost-dev libssl-dev openssl
  protobuf-compiler libprotobuf-dev
  libsqlite3-dev sqlite3
  catch2 libexpected-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev
  procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
