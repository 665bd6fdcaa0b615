#!/usr/bin/env bash
# Installs what the Ironic tests need from Debian packages: Ironic itself
# (python3-ironic, run all-in-one by test/support/ironic.ts), sushy (Ironic's
# Redfish library), redfishtool, and openssl (the TLS tests issue throwaway
# certificates with it). Installs only what is missing, so it is
# safe to run twice; runs `apt-get update` only when something must be
# installed. Needs root (or sudo) on Debian bookworm or newer.
set -euo pipefail

packages=(python3-ironic python3-sushy redfishtool openssl)

missing=()
for package in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    echo "install-ironic: $package is already installed ($(dpkg-query -W -f='${Version}' "$package"))"
  else
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-ironic: nothing to install"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ironic: cannot install ${missing[*]}: apt-get not found (this script needs Debian or Ubuntu)" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "install-ironic: cannot install ${missing[*]}: not root and sudo not found" >&2
      exit 1
    fi
  fi
  echo "install-ironic: installing ${missing[*]}"
  ${sudo[@]+"${sudo[@]}"} apt-get update -q
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  for package in "${missing[@]}"; do
    echo "install-ironic: installed $package ($(dpkg-query -W -f='${Version}' "$package"))"
  done
fi

# The tests run Ironic with Debian's own Python; prove the modules import
# (Ironic 30 moved its entry points from ironic.cmd to ironic.command).
/usr/bin/python3 -c '
import importlib, sushy
for package in ("ironic.command", "ironic.cmd"):
    try:
        importlib.import_module(package + ".singleprocess")
        importlib.import_module(package + ".dbsync")
        break
    except ImportError:
        pass
else:
    raise SystemExit("no ironic.command or ironic.cmd entry points")
' || { echo "install-ironic: /usr/bin/python3 cannot import ironic and sushy" >&2; exit 1; }
echo "install-ironic: ironic $(/usr/bin/python3 -c 'import pbr.version; print(pbr.version.VersionInfo("ironic").version_string())') is ready"
