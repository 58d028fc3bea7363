import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.TICKETING_UNSAFE_SWITCHES = 'no-event-lock';
});

import {
  createDb,
  createTestEnvironment,
  unsafeSwitches,
  type Database,
  type TestEnvironment,
} from '@ticketing/shared/testing';
import { auditControl } from './control-books.js';
import { decideInOverlappingRounds } from './overlapping-rounds.js';

// The layer under the event lock (docs/controls.md): without the lock, overlapping rounds decide on
// stale counts, and the conditional `sold + held + n <= total` update is what refuses them.

let environment: TestEnvironment;
let db: Kysely<Database>;
beforeAll(async () => {
  environment = await createTestEnvironment();
  db = createDb(environment.config.databaseUrl, { poolSize: 12 });
});
afterAll(async () => {
  await db?.destroy();
  await environment?.destroy();
});

describe('negative control: the event lock', () => {
  it('when rounds overlap without the event lock, then the conditional update refuses the oversell and the books stay exact', async () => {
    expect(unsafeSwitches['no-event-lock']).toBe(true);
    const { purchases, errors } = await decideInOverlappingRounds(db, 5, 30);
    expect(errors.some((error) => error.startsWith('Refusing to oversell'))).toBe(true);
    expect((await auditControl(environment, purchases, { fifo: true })).violations).toEqual([]);
  });
});
