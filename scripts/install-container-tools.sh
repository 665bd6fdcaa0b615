#!/usr/bin/env bash
# Installs what the image and monitoring tests need, from Debian's archive:
#   podman, buildah and runc  build and run the operator image (npm run image, test/image/);
#   prometheus                ships promtool, which checks and unit-tests config/prometheus/.
# No registry is needed: the image's Node.js base is made locally (scripts/build-image.sh).
# Idempotent; run as root (CI runs it from .ci/run).
set -euo pipefail

packages=(podman buildah runc prometheus)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: prometheus recommends nothing we need, and it would otherwise pull in
  # prometheus-node-exporter and friends.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The prometheus package starts a Prometheus server on :9090 through systemd where systemd runs;
# the tests need only promtool, so stop and disable it when it is there.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
podman --version
buildah --version
runc --version | head -1
promtool --version 2>&1 | head -1
