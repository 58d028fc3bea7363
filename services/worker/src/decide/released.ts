import type { StatusChange } from './status-change.js';

/** What carrying out a cancellation or an expiry changed: the purchases released, then those promoted. */
export interface Released {
  readonly released: StatusChange[];
  readonly promoted: StatusChange[];
}
