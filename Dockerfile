# The bmc-operator image: Node.js 24 runs the TypeScript sources directly (type
# stripping, no build step), with the production dependencies only. The
# Deployment in config/manager runs it as user 65532 on a read-only root
# filesystem; the operator writes nothing to disk.
#
#   docker build -t bmc-operator:latest .
#
# Only the operator goes in: src/ (the emulators, the `npm start` harness in
# embedded/, tests and benchmarks live outside it) and the packages it imports
# at run time, which are exactly package.json's `dependencies` (what only the
# emulators and tests use is a devDependency). src/cli/runtime-image.test.ts
# checks what this relies on.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
# package.json's "type": "module" makes Node.js load the .ts sources as ES modules.
COPY package.json ./
COPY src ./src
USER 65532:65532
ENTRYPOINT ["node", "src/cli/operator.ts"]
