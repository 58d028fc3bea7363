import type { EventChange } from '@ticketing/shared';
import type { StatusChange } from './status-change.js';

/**
 * What carrying out an ending (a cancellation, an expiry, a resize or a close) changed: the purchases
 * ended, then those promoted, and the messages about the event itself.
 */
export interface Ended {
  readonly ended: StatusChange[];
  readonly promoted: StatusChange[];
  readonly eventChanges?: EventChange[];
}
