import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import type { TestSystem } from './test-system.js';

export interface PurchaseBody {
  purchaseId: string;
  eventId: string;
  userId: string;
  quantity: number;
  status: string;
  bookingId?: string;
  waitlistPosition?: number;
  reason?: string;
  cancellationRequested: boolean;
}

/** Small helpers over `app.inject()` for the common steps of a sale. */
export function httpHelpers(system: () => TestSystem) {
  const inject = (options: InjectOptions) => system().app.inject(options);

  async function createEvent(
    body: Record<string, unknown> = {},
  ): Promise<{ id: string; totalTickets: number }> {
    const response = await inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'Test event', totalTickets: 10, priceCents: 1000, ...body },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  async function submit(
    eventId: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    const response = await inject({
      method: 'POST',
      url: `/events/${eventId}/purchases`,
      payload: body,
      headers,
    });
    expect(response.statusCode, response.body).toBe(202);
    return response.json<PurchaseBody>();
  }

  /**
   * Long-polls a purchase until `done` holds (by default: decided). A long-poll returns as soon as the
   * purchase is decided, so waiting for a later change (a promotion) re-polls after a short pause.
   */
  async function poll(
    purchaseId: string,
    done: (body: PurchaseBody) => boolean = (body) => body.status !== 'queued',
  ) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await inject({ method: 'GET', url: `/purchases/${purchaseId}?waitMs=5000` });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<PurchaseBody>();
      if (done(body)) return body;
      if (Date.now() > deadline) throw new Error(`purchase ${purchaseId} is still ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function buy(eventId: string, body: Record<string, unknown>) {
    return poll((await submit(eventId, body)).purchaseId);
  }

  async function cancel(purchaseId: string) {
    const response = await inject({ method: 'POST', url: `/purchases/${purchaseId}/cancel` });
    expect(response.statusCode, response.body).toBe(202);
    return poll(purchaseId, (body) => body.status === 'cancelled');
  }

  return { inject, createEvent, submit, poll, buy, cancel };
}
