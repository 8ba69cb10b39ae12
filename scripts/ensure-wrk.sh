#!/usr/bin/env bash
# Make sure the `wrk` HTTP load generator is installed for `make bench`. Installs Debian's `wrk`
# package with apt-get when it is missing and this runs as root; otherwise prints a notice and
# exits 0 (the benchmark then says it cannot drive the servers and skips the timed rounds).
# Never reads stdin.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    echo "ensure-wrk: $(command -v wrk) is installed"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "ensure-wrk: notice: wrk is missing and this is not root; the timed rounds will be" \
        "skipped. To run them: sudo apt-get install wrk"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-wrk: notice: wrk is missing and apt-get is not available; the timed rounds" \
        "will be skipped."
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_options=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

echo "ensure-wrk: installing wrk with apt-get"
apt-get update -q </dev/null || echo "ensure-wrk: notice: apt-get update failed; trying the cached lists"
if ! apt-get install "${apt_options[@]}" --no-install-recommends wrk </dev/null; then
    echo "ensure-wrk: notice: apt-get could not install wrk; the timed rounds will be skipped."
    exit 0
fi
echo "ensure-wrk: installed $(command -v wrk)"
