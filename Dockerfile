# One image for both services; compose picks the command. Production dependencies only, non-root.
# The services run their TypeScript through tsx, a production dependency of each service, so each
# runs from its own folder, where `--import tsx` resolves.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app /app
COPY packages/shared/src packages/shared/src
COPY services/api/src services/api/src
COPY services/worker/src services/worker/src
# Files stay owned by root: the service user can read the code but not change it.
USER node
WORKDIR /app/services/api
EXPOSE 3000 9464
CMD ["node", "--import", "tsx", "src/server.ts"]
