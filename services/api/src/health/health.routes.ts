import { sql } from 'kysely';
import { Type } from 'typebox';
import { postgresPrimaryOf, unavailable } from '@ticketing/shared';
import { errorResponse } from '../http/common.schemas.js';
import type { App, AppDeps } from '../app-types.js';

const Ok = Type.Object({ status: Type.Literal('ok') }, { description: 'Healthy' });
const Ready = Type.Object(
  {
    status: Type.Literal('ok'),
    postgresPrimary: Type.String({
      description:
        "host:port of the Postgres server this process writes to now: of DATABASE_URL's hosts, the one " +
        'that took its last connection (after a failover, the new primary)',
    }),
  },
  { description: 'Postgres and Redis answer' },
);
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer in time`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function registerHealthRoutes(app: App, deps: AppDeps): void {
  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: Ok, 429: errorResponse[429], 500: errorResponse[500] },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: Postgres and Redis both answer',
        response: { 200: Ready, 429: errorResponse[429], 500: errorResponse[500], 503: errorResponse[503] },
      },
    },
    async () => {
      const [postgres, redis] = await Promise.allSettled([
        withTimeout(sql`select 1`.execute(deps.db), 'Postgres'),
        withTimeout(deps.redis.ping(), 'Redis'),
      ]);
      const down = [
        postgres.status === 'rejected' ? 'Postgres' : '',
        redis.status === 'rejected' ? 'Redis' : '',
      ]
        .filter(Boolean)
        .join(' and ');
      const postgresPrimary = postgresPrimaryOf(deps.config.databaseUrl);
      // Answered by a host the selector has since given up on (a failover under way): not ready yet.
      if (down === '' && postgresPrimary === undefined) throw unavailable('Postgres primary unknown');
      if (down !== '') throw unavailable(`${down} unavailable`);
      return { status: 'ok' as const, postgresPrimary: postgresPrimary ?? '' };
    },
  );
}
