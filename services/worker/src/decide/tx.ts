import type { Database } from '@ticketing/shared';
import type { Transaction } from 'kysely';

/**
 * Every read and write of a decision runs inside the round's transaction, under the events' row locks.
 * Lists travel as one array per column (`unnest`), so a statement's size does not grow with the rows
 * it carries.
 */
export type Tx = Transaction<Database>;
