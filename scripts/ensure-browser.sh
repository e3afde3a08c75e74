#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright's own browser download is not available).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
    echo "chromium is missing: install it (Debian: apt-get install chromium chromium-driver)" >&2
    exit 1
fi
