# The Mooring worker image: compiled code, production dependencies and the etcd tools
# `backup verify` runs (etcdctl/etcdutl of every etcd minor Mooring supports).
# Versions come from docker/versions.env, passed by docker-compose.yml as build arguments; alone:
#   docker build $(sed -n 's/^\(NODE_VERSION\|GO_VERSION\)=\(.*\)/--build-arg \1=\2/p' docker/versions.env) .
ARG NODE_VERSION
ARG GO_VERSION

# etcd 3.5 and 3.6 (etcd, etcdctl, etcdutl) built by the same script set-up runs for the lab,
# from the Go module proxy, into /cache/mooring/etcd/<version>/.
FROM golang:${GO_VERSION}-bookworm AS etcd
WORKDIR /src
COPY scripts/build-etcd.sh ./
RUN XDG_CACHE_HOME=/cache bash build-etcd.sh

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Debian 12 like the lab: its etcd-client is etcd 3.4's etcdctl (on PATH, as on the lab's worker
# machine); the 3.5/3.6 builds sit where Mooring looks for set-up's builds (~/.cache/mooring/etcd),
# so a trial restore uses the newest etcdutl, as it does in the tests.
FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends etcd-client \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=etcd --chown=node:node /cache/mooring/etcd /home/node/.cache/mooring/etcd
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The addon manifests the host phase applies (found beside dist/ at run time; see addons/README.md).
COPY --from=build /app/addons ./addons
COPY --from=build /app/package.json ./
USER node
CMD ["node", "bin/mooring.js", "worker"]
