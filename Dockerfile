# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund

# Runtime stage: production dependencies and the compiled output only, as a non-root user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# A 4 MB young generation (Node's default grows to 16 MB) cut RSS by 13 MB idle and 25 MB under
# load at the same CPU per request; `docker run -e NODE_OPTIONS=...` replaces it.
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY examples ./examples
COPY config.example.yaml ./
USER node
EXPOSE 5000
# Mount your config here (a Kubernetes ConfigMap works: the file is watched and hot-reloaded).
ENV LLMGW_CONFIG=/etc/llmgw/config.yaml
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:5000/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start", "--host", "0.0.0.0", "--port", "5000"]
