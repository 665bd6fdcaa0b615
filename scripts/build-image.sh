#!/usr/bin/env bash
# `npm run image`: builds the operator image from the Dockerfile with podman, no registry needed.
#
#   npm run image                                  # bmc-operator:latest on a locally made Node.js base
#   npm run image -- --tag bmc-operator:0.1.0 --archive bmc-operator.oci.tar
#   npm run image -- --base node:24-bookworm-slim  # any base with Node.js 24 instead
#
# 1. The base (localhost/bmc-operator-node:<node version>-<recipe hash>), made once and kept: an
#    image from scratch holding only the Node.js binary of the pinned `node` dev dependency
#    (stripped), the shared libraries `ldd` lists for it, and /etc/passwd and /etc/group naming
#    user 65532. No shell, no package manager.
# 2. The build context, in .tools/image/: package.json, src/ without tests or test stand-ins, an
#    empty compile-cache/ for the cache the Dockerfile writes, and node_modules from
#    `npm ci --omit=dev --ignore-scripts`, run here on the host and kept while
#    package-lock.json does not change. npm runs on the host, not in a build step, so the
#    registry's settings (npmrc, a proxy's CA) are never inside a build container or a layer.
# 3. `podman build` of the Dockerfile with NODE_IMAGE set to the base.
#
# Needs root (or rootless podman), podman and buildah: `bash scripts/install-container-tools.sh`.
# On a VM that cannot raise limits, builds need explicit ulimits, and crun refuses hybrid cgroups:
# hence --ulimit and --runtime runc below.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tag=bmc-operator:latest
base=
archive=
while (($#)); do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --archive) archive=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument ${1@Q} (try --help)" >&2; exit 2 ;;
  esac
done

for tool in podman buildah; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is not installed: run bash scripts/install-container-tools.sh" >&2; exit 1; }
done
nofile=$(ulimit -Hn)
[[ $nofile == unlimited ]] && nofile=1048576
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=32768:32768)
started=$SECONDS

# 1. The Node.js base.
if [[ -z $base ]]; then
  node_binary=$root/node_modules/node/bin/node
  [[ -x $node_binary ]] || { echo "build-image.sh: no $node_binary: run npm ci first" >&2; exit 1; }
  node_version=$("$node_binary" --version)
  recipe=$( { sha256sum "$0" | cut -c1-64; echo "$node_version"; } | sha256sum | cut -c1-12)
  base=localhost/bmc-operator-node:${node_version#v}-$recipe
  if podman image exists "$base"; then
    echo "base: $base (kept from an earlier build)"
  else
    echo "base: making $base from scratch with Node.js $node_version"
    container=$(buildah from scratch)
    trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
    rootfs=$(buildah mount "$container")
    install -d -m 755 "$rootfs/usr/local/bin" "$rootfs/etc"
    install -d -m 1777 "$rootfs/tmp"
    cp "$node_binary" "$rootfs/usr/local/bin/node"
    # The debug symbols are a sixth of the binary and nothing at run time needs them.
    if command -v strip >/dev/null; then strip --strip-all "$rootfs/usr/local/bin/node"; fi
    # Every library the dynamic linker resolves for node, and the linker itself, at the same paths.
    while read -r library; do
      install -d "$rootfs$(dirname "$library")"
      cp -L "$library" "$rootfs$library"
    done < <(ldd "$node_binary" | grep -o '/[^ ]*' | sort -u)
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
    # Runs in the base's own filesystem, or the base lacks a library.
    if [[ $(id -u) == 0 ]]; then chroot "$rootfs" /usr/local/bin/node --version >/dev/null; fi
    buildah unmount "$container" >/dev/null
    buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --user 65532:65532 \
      --label org.opencontainers.image.description="Node.js $node_version, its shared libraries and user 65532" "$container"
    buildah commit --quiet "$container" "$base" >/dev/null
    buildah rm "$container" >/dev/null
    trap - EXIT
    # Bases of other Node.js versions or recipes are not used again.
    podman images --format '{{.Repository}}:{{.Tag}}' --filter reference=localhost/bmc-operator-node |
      grep -vxF "$base" | xargs -r podman rmi >/dev/null 2>&1 || true
  fi
fi

# 2. The build context.
context=$root/.tools/image
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [[ ! -f $context/.dependencies-$lock_hash ]]; then
  echo "context: npm ci --omit=dev (package-lock.json changed or first build)"
  rm -rf "$context"
  mkdir -p "$context"
  cp package.json package-lock.json "$context/"
  (cd "$context" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  # Nothing loads type declarations, source maps or read-mes at run time: half of node_modules.
  find "$context/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' \) -delete
  touch "$context/.dependencies-$lock_hash"
fi
rm -rf "$context/src" "$context/compile-cache"
cp package.json "$context/"
# The compile cache's directory, empty: the Dockerfile copies it owned by the user that fills it.
mkdir "$context/compile-cache"
cp Dockerfile .dockerignore "$context/"
# src/ without the tests and the stand-ins tests build on (src/**/testing/); the operator loads only .ts files.
mkdir -p "$context/src"
(cd src && find . -type f -name '*.ts' ! -name '*.test.ts' ! -path '*/testing/*' -print0 | xargs -0 cp --parents -t "$context/src")

# 3. The image.
podman build --quiet --runtime runc "${limits[@]}" --build-arg "NODE_IMAGE=$base" --tag "$tag" "$context" >/dev/null
# The image this tag named before, if any, is left untagged: remove it (and only such images of ours).
podman image prune --force --filter label=org.opencontainers.image.title=bmc-operator >/dev/null
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "image: $tag on $base, $((size / 1000000)) MB, built in $((SECONDS - started)) s"
if [[ -n $archive ]]; then
  rm -f "$archive"
  podman save --quiet --format oci-archive --output "$archive" "$tag"
  echo "archive: $archive, $(($(stat -c %s "$archive") / 1000000)) MB"
fi
