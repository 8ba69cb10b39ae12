#!/usr/bin/env bash
# Install PostGraphile v5 and its Node 22 for `make bench` (the side-by-side benchmark's peer
# server), exactly as bench/postgraphile/package-lock.json pins them: `npm ci` from the npm
# registry, again only when the lock changed. Never fails: without npm, or when the install
# fails, it prints a notice and exits 0 (the benchmark then says why and runs without the
# PostGraphile column). Never reads stdin.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peer="$here/bench/postgraphile"
stamp="$peer/node_modules/.package-lock.json"

if [[ -f "$stamp" && "$stamp" -nt "$peer/package-lock.json" && -x "$peer/node_modules/node/bin/node" ]]; then
    echo "ensure-postgraphile: installed ($("$peer/node_modules/node/bin/node" --version))"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-postgraphile: notice: npm is missing; the benchmark runs without PostGraphile."
    exit 0
fi
echo "ensure-postgraphile: npm ci --prefix bench/postgraphile"
if ! npm ci --prefix "$peer" --no-audit --no-fund </dev/null; then
    echo "ensure-postgraphile: notice: npm ci failed; the benchmark runs without PostGraphile."
    exit 0
fi
echo "ensure-postgraphile: installed ($("$peer/node_modules/node/bin/node" --version 2>&1))"
