import { randomBytes } from 'node:crypto';

/** A name part no other run on this machine picks (time and randomness), for databases and key prefixes. */
export const runId = (): string => `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
