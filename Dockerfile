# wharf as a container image: a non-root user, nothing written at run time (so
# `docker run --read-only` and Kubernetes' readOnlyRootFilesystem work), health
# probes with `wharf healthcheck` (no curl or shell needed), and a drain on
# SIGTERM. docs/operations.md says what was verified where:
# test/container/image.test.ts runs this file's ENTRYPOINT + CMD and HEALTHCHECK
# as an unprivileged user on a read-only tree; `npm run test:container` builds
# and runs the image itself where docker or podman is available.
#
#   docker build -t wharf .
#   docker run --read-only -p 8000:8000 -v "$PWD/site:/srv:ro" wharf
#
# or, for a site image:  FROM wharf  then  COPY --chown=0:0 dist/ /srv/

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# The port, read by wharf and by `wharf healthcheck` alike (platforms such as
# Cloud Run and Heroku set PORT themselves).
ENV PORT=8000
COPY --from=build /build/package.json /opt/wharf/package.json
COPY --from=build /build/node_modules /opt/wharf/node_modules
COPY --from=build /build/dist /opt/wharf/dist
COPY schema /opt/wharf/schema
RUN ln -s /opt/wharf/dist/cli/bin.js /usr/local/bin/wharf && mkdir -p /srv
WORKDIR /srv
# A numeric user, so that Kubernetes' runAsNonRoot can check it without a passwd
# entry; it owns nothing in the image, so it can change nothing there.
USER 65532:65532
EXPOSE 8000
# What orchestrators send: wharf answers it with the drain (readiness 503 for
# --shutdown-delay), then the graceful close (--shutdown-timeout). `docker stop`
# waits 10 s by default: use `docker stop -t 20` (delay + timeout + margin).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["wharf", "healthcheck"]
ENTRYPOINT ["wharf"]
CMD ["--directory", "/srv", "--health", "--shutdown-delay", "5", "--shutdown-timeout", "10", "--log-format", "json"]
