#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
# Installs it with apt-get when missing and we may (root); says clearly what is missing otherwise.
set -u
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing; installing Debian's package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "ERROR: chromium is not installed; the browser tests need it (Debian: apt-get install -y chromium)." >&2
  [ "${CI:-}" = "true" ] && exit 1
  echo "       Outside CI the browser tests are skipped." >&2
fi
exit 0
