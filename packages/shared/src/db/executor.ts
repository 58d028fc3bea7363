import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database.js';

/**
 * What a statement runs on. `Db`: the pool, or a transaction the caller opened (a `Tx` is a `Db`);
 * a repository function takes one and never opens a transaction itself. `Tx`: inside the caller's
 * transaction, for statements that must commit together or run under its locks; the type refuses
 * the pool. See docs/architecture.md, "Who opens a transaction".
 */
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
