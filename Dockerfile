# One image for both services; compose picks the command. Built in one stage (all dependencies, then
# `pnpm build`: each service bundled into services/<name>/dist), run from another with production
# dependencies only, as a non-root user. Each service runs from its own folder, where its
# dependencies resolve.

FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/loadtest/package.json packages/loadtest/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app /app
COPY --from=build /app/services/api/dist services/api/dist
COPY --from=build /app/services/worker/dist services/worker/dist
# Files stay owned by root: the service user can read the code but not change it.
USER node
WORKDIR /app/services/api
EXPOSE 3000 9464
CMD ["node", "--heap-growing-percent=100", "--max-semi-space-size=8", "dist/server.js"]
