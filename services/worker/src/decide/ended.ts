import type { StatusChange } from './status-change.js';

/** What carrying out an ending (a cancellation or an expiry) changed: the purchases ended, then those promoted. */
export interface Ended {
  readonly ended: StatusChange[];
  readonly promoted: StatusChange[];
}
