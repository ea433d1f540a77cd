#!/usr/bin/env bash
# Debian packages Haven's tests and optional features need; installed only when missing.
# Capabilities add theirs to PACKAGES (each with the reason beside it).
set -euo pipefail
PACKAGES=(
  chromium  # the console's end-to-end tests drive Debian's Chromium with Playwright
  # vpdq (Meta's video hash) builds from source against FFmpeg's libraries:
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev libavfilter-dev
  pkg-config cmake g++
)
# The TypeScript client (clients/typescript) builds and tests with Node.js 20 and npm.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
