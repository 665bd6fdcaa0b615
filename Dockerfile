# The bmc-operator image: Node.js 24 runs the TypeScript sources directly (type
# stripping, no build step), with the production dependencies only. It runs as
# user 65532 and writes nothing to disk, so it runs on a read-only root
# filesystem (as config/manager and the Helm chart run it).
#
# Build it with `npm run image` (scripts/build-image.sh). That script assembles
# the build context: package.json, src/ without the tests, and node_modules
# made by `npm ci --omit=dev` on the host (so no registry credentials, proxy CA
# or npmrc ever enter a build step or a layer, and the base needs no npm). It
# makes the Node.js base locally from the pinned `node` dev dependency (no
# registry needed) and passes it as NODE_IMAGE; any image with Node.js 24 at
# `node` on the PATH works as well, e.g. `--base node:24-bookworm-slim`.
#
# Only the operator goes in: src/ (the emulators, the `npm start` harness in
# embedded/, tests and benchmarks live outside it), the packages it imports at
# run time, which are exactly package.json's `dependencies`, and Node.js's
# compile cache of both, written by the build.
# src/cli/runtime-image.test.ts checks what this relies on; test/image/ builds
# and runs the image.
ARG NODE_IMAGE=localhost/bmc-operator-node:24

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title=bmc-operator
WORKDIR /app
# MALLOC_ARENA_MAX: glibc gives every thread that allocates (V8's and libuv's workers) an
# arena of its own, up to 8 per core; two keep about 8 MiB less resident with no measurable
# CPU cost (docs/benchmarks.md, Operator footprint).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2
# package.json's "type": "module" makes Node.js load the .ts sources as ES modules.
COPY package.json ./
COPY node_modules ./node_modules
COPY src ./src
# Node.js's compile cache, written here once so that no start strips types or compiles from
# scratch: with it the operator reads the stripped sources and V8's code caches, never loads the
# type stripper (swc compiled to WebAssembly), and an idle operator holds 9 to 10 MiB less
# (docs/benchmarks.md, The compile cache in the image). Node.js keeps it in a subdirectory named
# by its version, the V8 flags and the user ID, so the warm-up below runs as the ENTRYPOINT's
# user with the ENTRYPOINT's flags (src/cli/runtime-image.test.ts holds them equal). At run time
# the directory is only read, so a read-only root filesystem is fine; another user ID cannot
# create its subdirectory there and starts without the cache. The directory must exist, owned by
# that user, before the warm-up (Node.js writes no cache where it cannot make the directory, and
# the base has no shell to make one): it is copied, empty, from the build context, where
# scripts/build-image.sh makes it.
COPY --chown=65532:65532 compile-cache ./compile-cache
ENV NODE_COMPILE_CACHE=/app/compile-cache
USER 65532:65532
# --help loads every module the operator runs (all its imports are static, but for client-node's,
# loaded only for exec plugins and the like), then exits 0 and writes the cache.
RUN ["node", "--liftoff-only", "--max-semi-space-size=4", "--heap-growing-percent=100", "src/cli/operator.ts", "--help"]
# --liftoff-only: WebAssembly (the type stripper at start, undici's HTTP parser) stays in V8's
# baseline compiler instead of being recompiled by its optimizing one, whose code and
# compile-time memory cost about 15 MiB of resident memory (docs/benchmarks.md).
# --max-semi-space-size=4 --heap-growing-percent=100: V8's young generation at most 2 × 4 MiB
# (16 by default) and the old one grown to twice what the last full collection kept (up to four
# times by default, on a machine with memory to spare): at 10,000 resources converging at once
# the peak is about 230 instead of 430 MiB of resident memory, for somewhat more collection work
# (docs/benchmarks.md, Operator footprint).
ENTRYPOINT ["node", "--liftoff-only", "--max-semi-space-size=4", "--heap-growing-percent=100", "src/cli/operator.ts"]
