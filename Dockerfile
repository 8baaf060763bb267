# syntax=docker/dockerfile:1
# Wheelhouse runs its TypeScript sources directly on Node 24 (type stripping), so the build stage
# only resolves production dependencies; type checks run in CI, and no transpiled output is shipped.
# The Node version is the one package.json pins (devDependency `node`): tests and image run the same.
# Expected size (estimate, see README "Image"): about 470 MB uncompressed.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the image's own Node runs the sources, so the pinned `node`
# devDependency (and vitest, biome, typescript) stay out.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# Re-declared: an ARG before the first FROM is only in scope for FROM lines.
ARG NODE_VERSION
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="wheelhouse" \
      org.opencontainers.image.description="Kubernetes ChatOps/AIOps bot: read skills, safe changes, incident threads, audited." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/node:${NODE_VERSION}-bookworm-slim"
# Fonts let the chart renderer draw axis labels; tini reaps children and forwards SIGTERM.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    WH_DATA_DIR=/var/lib/wheelhouse \
    WH_HTTP_HOST=0.0.0.0 \
    WH_HTTP_PORT=8080
COPY --from=build /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY skills ./skills
# The image's `node` user, by number: Kubernetes can only verify runAsNonRoot for a numeric user, and
# the Helm chart runs the pod as 1000:1000 with a read-only root filesystem (the data dir and /tmp are
# writable volumes there).
RUN mkdir -p /var/lib/wheelhouse && chown 1000:1000 /var/lib/wheelhouse
USER 1000:1000
EXPOSE 8080
VOLUME ["/var/lib/wheelhouse"]
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "src/cli.ts"]
CMD ["serve"]
