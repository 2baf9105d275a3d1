#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, and only the missing
# ones, so running it again is cheap. Used by both README commands and CI.
set -euo pipefail

packages=(
  bazel-bootstrap g++ pkg-config
  protobuf-compiler libprotobuf-dev zlib1g-dev libisal-dev isal libabsl-dev
  prometheus-cpp-dev libcpp-httplib-dev libyaml-cpp-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  golang-go golang-github-google-pprof-dev
  prometheus curl python3 python3-yaml procps
  openssl libcrypt-dev libssl-dev
  systemd nix-bin
  clang libclang-rt-14-dev llvm
  chromium  # headless: tests/daemon/test_landing_page_browser.py
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
