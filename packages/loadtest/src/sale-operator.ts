import { mapLimit } from './map-limit.js';
import type { TicketingClient } from './client.js';
import type { SaleOperationPlan } from './options.js';
import type { SaleOperationSeen } from './sale-operations-audit.js';

/** Of the purchases accepted during a pause, at most this many per event are read before the resume. */
const READ_DURING_PAUSE = 50;
/** How long the operator waits for a close or a cancellation to be carried out. */
const END_PATIENCE_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the operator needs to know of the run's buyers. */
export interface RunProgress {
  /** Purchases accepted, or refused because the sale had ended, so far. */
  handled(): number;
  /** Ids of the event's purchases whose 202 came after `since` (`performance.now()`). */
  acceptedSince(eventId: string, since: number): string[];
}

/**
 * The operator of a load run (docs/running-a-sale.md): does each planned operation to every event's
 * sale once its share of the purchases is accepted, through the admin routes, and records what it saw
 * for the audit (sale-operations-audit.ts). A pause runs on while later resizes are done (a resize
 * during a pause is the case where a wrong-sized decision would show); a close or a cancellation waits
 * for the resume. A cancellation pauses the sale first and reads what is sold, so that the audit can
 * hold the refund to it.
 */
export class SaleOperator {
  readonly seen: SaleOperationSeen[] = [];
  /** A close or a cancellation has been sent: purchases refused from then on are the sale's end. */
  endSent = false;
  private loadOver = false;
  /** The total in force before the next resize, at least: created, or asked by the last resize. */
  private readonly totals: Map<string, number>;

  constructor(
    private readonly client: TicketingClient,
    private readonly plan: readonly SaleOperationPlan[],
    private readonly events: readonly { readonly id: string; readonly totalTickets: number }[],
    private readonly purchases: number,
    private readonly progress: RunProgress,
  ) {
    this.totals = new Map(events.map((event) => [event.id, event.totalTickets]));
  }

  /** The load is over: operations whose share was not reached are done now. */
  loadFinished(): void {
    this.loadOver = true;
  }

  async run(): Promise<void> {
    let pausing: Promise<void> = Promise.resolve();
    for (const operation of this.plan) {
      const due = Math.ceil(operation.at * this.purchases);
      while (!this.loadOver && this.progress.handled() < due) await sleep(10);
      switch (operation.kind) {
        case 'pause':
          // Later operations come once every event is paused, while it lasts.
          pausing = (await this.pause(operation.forMs)).resumed;
          break;
        case 'resize':
          await this.resize(operation.totalTickets);
          break;
        case 'close':
          await pausing;
          await this.close();
          break;
        case 'cancel':
          await pausing;
          await this.cancel();
          break;
      }
    }
    await pausing;
  }

  private ids(): string[] {
    return this.events.map((event) => event.id);
  }

  private async operate(eventId: string, operation: Parameters<TicketingClient['operateSale']>[1]) {
    const outcome = await this.client.operateSale(eventId, operation);
    if ('refused' in outcome)
      throw new Error(`${JSON.stringify(operation)} on event ${eventId}: refused, ${outcome.refused}`);
    return outcome.event;
  }

  private async resize(totalTickets: number): Promise<void> {
    for (const eventId of this.ids()) {
      const sentAt = performance.now();
      const outcome = await this.client.operateSale(eventId, { change: { totalTickets } });
      const answeredAt = performance.now();
      const totalBefore = this.totals.get(eventId) ?? 0;
      if ('refused' in outcome && outcome.refused !== 'below_sold_and_held')
        throw new Error(`resizing event ${eventId} to ${totalTickets}: refused, ${outcome.refused}`);
      this.seen.push({
        kind: 'resize',
        eventId,
        sentAt,
        answeredAt,
        totalTickets,
        totalBefore,
        ...('refused' in outcome ? { refused: outcome.refused } : {}),
      });
      if (!('refused' in outcome)) this.totals.set(eventId, totalTickets);
    }
  }

  private async taken(eventId: string): Promise<{ taken: number; waiting: number }> {
    const status = await this.client.status(eventId);
    return { taken: status.soldTickets + status.heldTickets, waiting: status.waitlistCount };
  }

  /**
   * Pauses every event and reads its books; returns the rest of the pause (`resumed`): `forMs` later,
   * check that nothing moved, and resume.
   */
  private async pause(forMs: number): Promise<{ resumed: Promise<void> }> {
    const paused = new Map<string, { sentAt: number; answeredAt: number; taken: number; waiting: number }>();
    for (const eventId of this.ids()) {
      const sentAt = performance.now();
      await this.operate(eventId, 'pause');
      const answeredAt = performance.now();
      paused.set(eventId, { sentAt, answeredAt, ...(await this.taken(eventId)) });
    }
    const resumed = this.resumeAfter(forMs, paused);
    // Awaited by the run (which then fails with it); not unhandled while other operations go on.
    resumed.catch(() => undefined);
    return { resumed };
  }

  private async resumeAfter(
    forMs: number,
    paused: ReadonlyMap<string, { sentAt: number; answeredAt: number; taken: number; waiting: number }>,
  ): Promise<void> {
    await sleep(forMs);
    for (const [eventId, pause] of paused) {
      const atResume = await this.taken(eventId);
      const during = this.progress.acceptedSince(eventId, pause.answeredAt).slice(0, READ_DURING_PAUSE);
      const states = await mapLimit(during, 16, (purchaseId) => this.client.getPurchase(purchaseId));
      const decided = states.filter((state) => state.status !== 'queued' && state.status !== 'prequeued');
      await this.operate(eventId, 'resume');
      this.seen.push({
        kind: 'pause',
        eventId,
        sentAt: pause.sentAt,
        answeredAt: pause.answeredAt,
        takenAtPause: pause.taken,
        takenAtResume: atResume.taken,
        waitingAtPause: pause.waiting,
        waitingAtResume: atResume.waiting,
        readDuringPause: states.length,
        decidedDuringPause: decided.length,
      });
    }
  }

  private async close(): Promise<void> {
    this.endSent = true;
    for (const eventId of this.ids()) {
      const sentAt = performance.now();
      await this.operate(eventId, 'close');
      const answeredAt = performance.now();
      // The close takes its turn after every purchase accepted before it: what it leaves is audited
      // once it is carried out.
      const giveUpAt = answeredAt + END_PATIENCE_MS;
      while ((await this.client.event(eventId)).closedAt == null && performance.now() < giveUpAt)
        await sleep(100);
      this.seen.push({ kind: 'close', eventId, sentAt, answeredAt });
    }
  }

  private async cancel(): Promise<void> {
    for (const eventId of this.ids()) {
      // Paused, nothing is decided: what is sold now is what the cancellation refunds (give or take
      // the holds paid for meanwhile).
      await this.operate(eventId, 'pause');
      const status = await this.client.status(eventId);
      this.endSent = true;
      const sentAt = performance.now();
      await this.operate(eventId, 'cancel');
      const answeredAt = performance.now();
      const giveUpAt = answeredAt + END_PATIENCE_MS;
      let finished = false;
      while (!finished && performance.now() < giveUpAt) {
        finished = (await this.client.event(eventId)).cancellation?.finishedAt != null;
        if (!finished) await sleep(200);
      }
      this.seen.push({
        kind: 'cancel',
        eventId,
        sentAt,
        answeredAt,
        soldBefore: status.soldTickets,
        heldBefore: status.heldTickets,
        finished,
      });
    }
  }
}
