#!/usr/bin/env bash
# Make sure Debian's Chromium and ChromeDriver are installed for the browser tests
# (pytest -m browser). Installs the `chromium` and `chromium-driver` packages with
# apt-get when they are missing and this runs as root; otherwise prints a notice and
# exits 0, and the browser tests skip. Never reads stdin.
set -euo pipefail

chromium=/usr/bin/chromium
chromedriver=/usr/bin/chromedriver

have_browser() {
    [[ -x "$chromium" && -x "$chromedriver" ]]
}

if have_browser; then
    echo "ensure-chromium: $("$chromium" --version 2>/dev/null || echo chromium) and chromedriver are installed"
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "ensure-chromium: notice: $chromium or $chromedriver is missing and this is not root;" \
        "browser tests will be skipped. To run them: sudo apt-get install chromium chromium-driver"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: notice: $chromium or $chromedriver is missing and apt-get is not" \
        "available; browser tests will be skipped."
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_options=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

echo "ensure-chromium: installing chromium and chromium-driver with apt-get"
apt-get update -q </dev/null
apt-get install "${apt_options[@]}" --no-install-recommends chromium chromium-driver </dev/null

if ! have_browser; then
    echo "ensure-chromium: error: apt-get finished but $chromium or $chromedriver is still missing" >&2
    exit 1
fi
echo "ensure-chromium: installed $("$chromium" --version 2>/dev/null || echo chromium)"
