#!/usr/bin/env bash
# The browser tests inject axe-core (npm package, pinned in package.json / package-lock.json) into every page.
# Installs it with npm when missing; says clearly what is missing otherwise (CI fails without it).
set -u
cd "$(dirname "$0")/.."
[ -f node_modules/axe-core/axe.min.js ] && exit 0
if command -v npm >/dev/null 2>&1; then
  echo "axe-core is missing; installing it with npm ci"
  npm ci --no-audit --no-fund --loglevel=error && exit 0
fi
echo "ERROR: axe-core is not installed: the accessibility check needs Node.js and npm (Debian: apt-get install -y npm), then npm ci." >&2
[ "${CI:-}" = "true" ] && exit 1
echo "       Outside CI the accessibility check is skipped." >&2
exit 0
