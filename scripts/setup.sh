#!/usr/bin/env bash
# Installs everything Facies needs on a fresh Debian 12 machine: Chromium for the tests, PyTorch + ONNX for
# generating the demo model (and the training kit), and the npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-noto-cjk: Chromium needs a CJK font to draw the Simplified Chinese screens (e2e screenshots).
# python3-pil: the training kit reads and writes crops. webkit2gtk-driver, xvfb, xauth: the WebKit e2e project.
# nginx: the shipped server configuration, tested end to end. libheif-examples: heif-enc makes the HEIC test photo.
# python3-flake8: lints the training kit. flatbuffers-compiler: flatc checks the prepared face detector.
apt_packages=(chromium python3-torch python3-onnx python3-numpy python3-pil fonts-noto-cjk webkit2gtk-driver xvfb xauth nginx libheif-examples python3-flake8 flatbuffers-compiler)
missing=()
for p in "${apt_packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node's install script would download GPU binaries from outside the npm registry; the CPU ones ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
