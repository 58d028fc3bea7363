# One image for both services; compose picks the command. Production dependencies only, non-root.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
COPY --from=deps /app /app
COPY packages/shared/src packages/shared/src
COPY services/api/src services/api/src
COPY services/worker/src services/worker/src
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "services/api/src/server.ts"]
