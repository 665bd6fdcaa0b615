#!/usr/bin/env bash
# Installs the real Ironic releases the tests run against, from Debian's archive.
#
#   scripts/install-ironic.sh [bookworm|trixie|all]      (default: all, or $IRONIC_RELEASES)
#
# bookworm  Debian bookworm's packages on this machine (Ironic 21.4.4, sushy 4.3.3): python3-ironic,
#           python3-sushy, redfishtool, and openssl (the TLS tests issue throwaway certificates with it).
#           Run by /usr/bin/python3.
# trixie    Ironic 29.0.5 with sushy 5.5.0 in a Debian trixie root made with debootstrap
#           (`--variant=minbase`, then `apt-get install --no-install-recommends python3-ironic
#           python3-sushy` inside it). The root is cached outside the checkout, in
#           $IRONIC_TRIXIE_ROOT (default /var/cache/bmc-operator/ironic-trixie, about 860 MB), and reused
#           when present: a finished root has the marker file .bmc-operator-ready. The tests run it with
#           `chroot <root> /usr/bin/python3`; it shares this machine's network, so it reaches emulated
#           BMCs on 127.0.0.1. About 3 minutes cold on 2 cores; seconds when cached.
#
# The mirror is the one this machine's apt already uses (first Debian URI in /etc/apt/sources.list
# or /etc/apt/sources.list.d/*), or $DEBIAN_MIRROR. Both parts install only what is missing, so the
# script is safe to run twice; an interrupted trixie build is left in <root>.partial and redone.
# Needs root (or sudo) on Debian bookworm or newer.
set -euo pipefail

releases="${1:-${IRONIC_RELEASES:-all}}"
case "$releases" in
  bookworm | trixie | all) ;;
  *)
    echo "install-ironic: unknown release '$releases' (expected bookworm, trixie or all)" >&2
    exit 2
    ;;
esac

TRIXIE_ROOT="${IRONIC_TRIXIE_ROOT:-/var/cache/bmc-operator/ironic-trixie}"
READY_MARKER=".bmc-operator-ready"

sudo=()
need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "install-ironic: cannot $1: not root and sudo not found" >&2
      exit 1
    fi
  fi
}
as_root() { ${sudo[@]+"${sudo[@]}"} "$@"; }

apt_updated=0
# Installs the host packages given that are not installed yet.
install_host_packages() {
  local missing=() package
  for package in "$@"; do
    if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
      echo "install-ironic: $package is already installed ($(dpkg-query -W -f='${Version}' "$package"))"
    else
      missing+=("$package")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ironic: cannot install ${missing[*]}: apt-get not found (this script needs Debian or Ubuntu)" >&2
    exit 1
  fi
  need_root "install ${missing[*]}"
  echo "install-ironic: installing ${missing[*]}"
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -q
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  for package in "${missing[@]}"; do
    echo "install-ironic: installed $package ($(dpkg-query -W -f='${Version}' "$package"))"
  done
}

# Proves that a Python imports Ironic's entry points and sushy, and prints Ironic's version
# (Ironic 30 moved its entry points from ironic.cmd to ironic.command).
check_python() {
  "$@" -c '
import importlib, sushy, pbr.version
for package in ("ironic.command", "ironic.cmd"):
    try:
        importlib.import_module(package + ".singleprocess")
        importlib.import_module(package + ".dbsync")
        break
    except ImportError:
        pass
else:
    raise SystemExit("no ironic.command or ironic.cmd entry points")
print(pbr.version.VersionInfo("ironic").version_string(), pbr.version.VersionInfo("sushy").version_string())
'
}

install_bookworm() {
  echo "--- install-ironic: bookworm (host packages)"
  install_host_packages python3-ironic python3-sushy redfishtool openssl
  local versions
  versions="$(check_python /usr/bin/python3)" ||
    { echo "install-ironic: /usr/bin/python3 cannot import ironic and sushy" >&2; exit 1; }
  echo "install-ironic: bookworm: ironic and sushy ${versions} are ready (/usr/bin/python3)"
}

# The first Debian archive URI this machine's apt uses (not the security archive), from one-line
# sources.list files and deb822 .sources files.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local file uri
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    case "$file" in
      *.sources)
        # Stanzas are separated by blank lines; take the URIs of a stanza whose Suites has no "-security".
        uri="$(awk '
          BEGIN { RS = ""; FS = "\n" }
          {
            uris = ""; suites = ""; enabled = 1
            for (i = 1; i <= NF; i++) {
              if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
              if ($i ~ /^Suites:/) { suites = $i }
              if ($i ~ /^Enabled:[ \t]*no/) { enabled = 0 }
            }
            if (enabled && uris ~ /\/debian\/?$/ && suites !~ /-security/) { split(uris, u, " "); print u[1]; exit }
          }' "$file")"
        ;;
      *)
        uri="$(awk '$1 == "deb" && $3 !~ /-security/ {
            for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($i ~ /\/debian\/?$/) { print $i; exit } else break }
          }' "$file")"
        ;;
    esac
    if [ -n "$uri" ]; then
      echo "$uri"
      return
    fi
  done
  echo "install-ironic: no Debian archive found in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2
  exit 1
}

install_trixie() {
  echo "--- install-ironic: trixie root at $TRIXIE_ROOT"
  if [ -f "$TRIXIE_ROOT/$READY_MARKER" ]; then
    local versions
    if versions="$(check_python as_root chroot "$TRIXIE_ROOT" /usr/bin/python3)"; then
      echo "install-ironic: trixie: reusing $TRIXIE_ROOT (ironic and sushy ${versions})"
      return 0
    fi
    echo "install-ironic: $TRIXIE_ROOT is marked ready but its Python cannot import ironic and sushy; rebuilding" >&2
  fi
  need_root "build the trixie root (debootstrap and chroot need root)"
  install_host_packages debootstrap
  local mirror partial
  mirror="$(debian_mirror)"
  partial="${TRIXIE_ROOT}.partial"
  as_root mkdir -p "$(dirname "$TRIXIE_ROOT")"
  # A build interrupted before it unmounted /proc leaves it mounted: unmount before removing.
  if mountpoint -q "$partial/proc" 2>/dev/null; then as_root umount "$partial/proc"; fi
  as_root rm -rf --one-file-system "$partial"
  echo "install-ironic: debootstrap --variant=minbase trixie from $mirror"
  local started=$SECONDS
  as_root debootstrap --variant=minbase trixie "$partial" "$mirror"
  echo "install-ironic: trixie base ready in $((SECONDS - started)) s"

  # apt inside the root needs name resolution; no service may start inside it.
  as_root cp -L /etc/resolv.conf "$partial/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$partial/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod 0755 "$partial/usr/sbin/policy-rc.d"
  as_root mount -t proc proc "$partial/proc"
  # shellcheck disable=SC2064 # the path is fixed now
  trap "${sudo[*]+${sudo[*]}} umount '$partial/proc' 2>/dev/null || true" EXIT
  started=$SECONDS
  as_root chroot "$partial" apt-get update -q
  as_root chroot "$partial" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends python3-ironic python3-sushy
  as_root chroot "$partial" apt-get clean
  as_root umount "$partial/proc"
  trap - EXIT
  echo "install-ironic: python3-ironic and python3-sushy installed in $((SECONDS - started)) s"

  local versions
  versions="$(check_python as_root chroot "$partial" /usr/bin/python3)" ||
    { echo "install-ironic: the trixie root's Python cannot import ironic and sushy" >&2; exit 1; }
  echo "$versions" | as_root tee "$partial/$READY_MARKER" >/dev/null
  as_root rm -rf --one-file-system "$TRIXIE_ROOT"
  as_root mv "$partial" "$TRIXIE_ROOT"
  echo "install-ironic: trixie: ironic and sushy ${versions} are ready in $TRIXIE_ROOT"
}

if [ "$releases" = bookworm ] || [ "$releases" = all ]; then install_bookworm; fi
if [ "$releases" = trixie ] || [ "$releases" = all ]; then install_trixie; fi
