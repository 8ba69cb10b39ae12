#!/usr/bin/env bash
# Install (npm ci) and build the self-hosted GraphiQL bundle in src/portal/web.
#
# Idempotent: `npm ci` is skipped while node_modules matches package-lock.json
# (checked with a stamp file holding a hash of the lockfile, package.json and the
# Node.js version), and the esbuild step is skipped while dist/ was built from the
# same inputs. Set FORCE=1 to redo both.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/src/portal/web"

fail() {
    echo "build-web: error: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 ||
    fail "node is not installed. Install Node.js >= 18 with npm (Debian: apt-get install nodejs npm), then run 'make web' again."
command -v npm >/dev/null 2>&1 ||
    fail "npm is not installed. Install npm (Debian: apt-get install npm), then run 'make web' again."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 18)) || fail "Node.js >= 18 is required, found $(node --version)."

cd "$web"
[[ -f package-lock.json ]] || fail "$web/package-lock.json is missing."

hash_of() {
    # hash_of FILE... : one sha256 over the given files and the Node.js version
    { cat -- "$@"; node --version; } | sha256sum | cut -d' ' -f1
}

# 1. Dependencies, exactly as locked.
deps_stamp="node_modules/.portal-deps.sha256"
deps_hash="$(hash_of package-lock.json package.json)"
if [[ "${FORCE:-0}" != 1 && -f "$deps_stamp" && "$(cat "$deps_stamp")" == "$deps_hash" ]]; then
    echo "build-web: node_modules is up to date with package-lock.json"
else
    echo "build-web: npm ci in $web"
    # --ignore-scripts: no dependency runs install scripts (esbuild works without its
    # postinstall, its platform binary comes from an optional dependency).
    npm ci --ignore-scripts --no-audit --no-fund
    printf '%s\n' "$deps_hash" >"$deps_stamp"
fi

# 2. The bundle (esbuild, a few seconds).
build_stamp="dist/.portal-build.sha256"
build_hash="$(hash_of package-lock.json package.json build.mjs graphiql-app.js)"
if [[ "${FORCE:-0}" != 1 && -f "$build_stamp" && -f dist/manifest.json &&
    "$(cat "$build_stamp")" == "$build_hash" ]]; then
    echo "build-web: dist/ is up to date"
else
    npm run --silent build
    printf '%s\n' "$build_hash" >"$build_stamp"
fi
