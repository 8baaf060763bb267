# syntax=docker/dockerfile:1
# Wheelhouse runs its TypeScript sources directly on Node 24 (type stripping), so the build stage
# only resolves production dependencies; type checks run in CI, and no transpiled output is shipped.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the image's own Node runs the sources, so the pinned `node`
# devDependency (and vitest, biome, typescript) stay out.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
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
