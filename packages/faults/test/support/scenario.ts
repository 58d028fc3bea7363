import type pg from 'pg';
import { auditBooks, waitAllFinal, waitSaleOperationsDone, type Books } from '../../src/books.js';
import { Buyers, type LoadPlan } from '../../src/buyers.js';
import { createdTotals, createEvents, openBooks, type AnyFaultSystem } from './fault-system.js';
import { report, type ScenarioResult } from './report.js';

export interface Scenario {
  readonly name: string;
  readonly events: number;
  readonly ticketsPerEvent: number;
  /** Events hold tickets this long for payment (0: confirmed at once). */
  readonly holdSeconds?: number;
  /** Events start selling this long after they are created (docs/on-sale.md); on sale at once without. */
  readonly saleStartInMs?: number;
  readonly load: Omit<LoadPlan, 'events'>;
  /**
   * Injects the faults while the load runs; returns what it did, for the table. `startAt`: the sale
   * start (ms since the epoch), with `saleStartInMs`; `events`: the events' ids, for operations on
   * their sales.
   */
  readonly faults: (buyers: Buyers, startAt: number, events: readonly string[]) => Promise<string>;
  /** After every purchase is final, before the audit: what else must settle (holds ending). */
  readonly settle?: (db: pg.Pool) => Promise<void>;
  /** Quantity 1, no cancellations, more demand than tickets: the confirmed must be the first in line. */
  readonly fifo?: boolean;
}

/**
 * One scenario: create the events, run the buyers and the faults together, wait for every accepted
 * purchase to be final, audit the books in Postgres, print the table row.
 */
export async function runScenario(system: AnyFaultSystem, scenario: Scenario): Promise<ScenarioResult> {
  const startAt = Date.now() + (scenario.saleStartInMs ?? 0);
  const events = await createEvents(system, scenario.events, scenario.ticketsPerEvent, {
    holdSeconds: scenario.holdSeconds ?? 0,
    ...(scenario.saleStartInMs !== undefined ? { salesStartAt: new Date(startAt).toISOString() } : {}),
  });
  const buyers = new Buyers(() => system.url, { ...scenario.load, events });
  const load = buyers.run();
  const notes = await scenario.faults(buyers, startAt, events);
  await load;
  const db = openBooks(system);
  let secondsToAllFinal: number;
  let books: Books;
  try {
    secondsToAllFinal = (await waitAllFinal(db, buyers)) / 1000;
    await waitSaleOperationsDone(db);
    await scenario.settle?.(db);
    books = await auditBooks(db, buyers, {
      fifo: scenario.fifo ?? true,
      initialTotals: createdTotals,
      report: (eventId) => readReport(system, eventId),
    });
  } finally {
    await db.end();
  }
  const refusals = [...buyers.refusals].map(([outcome, count]) => `${count}×${outcome}`).join(', ');
  const result: ScenarioResult = {
    scenario: scenario.name,
    ...books,
    secondsToAllFinal,
    notes: refusals === '' ? notes : `${notes}; buyers retried ${refusals}`,
  };
  report(result);
  return result;
}

/** An event's report as the api gives it (`GET /events/:id/report`: an admin route, open on loopback). */
export async function readReport(
  system: AnyFaultSystem,
  eventId: string,
): Promise<{ refundDueCents?: number }> {
  const response = await fetch(`${system.url}/events/${eventId}/report`);
  if (response.status !== 200) throw new Error(`GET /events/${eventId}/report: ${response.status}`);
  return (await response.json()) as { refundDueCents?: number };
}

export const randomBetween = (min: number, max: number): number => min + Math.random() * (max - min);
