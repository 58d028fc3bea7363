import { Pool } from 'undici';

export interface PurchaseState {
  readonly purchaseId: string;
  readonly eventId: string;
  readonly status: string;
  readonly quantity: number;
  readonly waitlistPosition?: number;
  /** Why it was rejected, or cancelled when not by its buyer (`event_cancelled`). */
  readonly reason?: string;
  /** When it was decided (absent while queued or pre-queued). */
  readonly processedAt?: string;
}

/** `GET /events/:id/draw`: the commitment, and once the sale has started the revealed draw. */
export interface DrawState {
  readonly commitment: string;
  readonly seed?: string;
  readonly entrants?: number;
  readonly keys?: string[];
}

/** An event as `GET /events/:id` and the admin routes on its sale show it (docs/running-a-sale.md). */
export interface EventState {
  readonly id: string;
  readonly totalTickets: number;
  readonly saleState: string;
  readonly pausedAt?: string | null;
  readonly pendingTotalTickets?: number | null;
  /** The close carried out in queue order: the waiting list closed. */
  readonly closedAt?: string | null;
  readonly cancellation?: { readonly finishedAt: string | null } | null;
}

/** An operation on a sale: done (the event as it left it), or refused with a 409's code. */
export type OperationOutcome = { readonly event: EventState } | { readonly refused: string };

export type ConfirmOutcome = { readonly confirmed: PurchaseState } | { readonly refused: string };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 200)}`);
  }
}

/**
 * What kind of failure an error was, for counting them: the status and the API's error code for an
 * HTTP answer (`HTTP 503 unavailable`), the system or undici code for a transport failure.
 */
export function errorKind(error: unknown): string {
  if (error instanceof HttpError) {
    let code: unknown;
    try {
      code = (JSON.parse(error.body) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    return typeof code === 'string' ? `HTTP ${error.status} ${code}` : `HTTP ${error.status}`;
  }
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return error instanceof Error ? error.name : 'unknown';
}

/** A thin client for the ticketing API over one keep-alive connection pool. */
export class TicketingClient {
  private readonly pool: Pool;

  constructor(
    url: string,
    private readonly connections: number,
    private readonly adminToken?: string,
  ) {
    this.pool = new Pool(url, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: 60_000,
    });
  }

  private async request<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    expected: number[],
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; data: T }> {
    const response = await this.pool.request({
      method,
      path,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    if (!expected.includes(response.statusCode))
      throw new HttpError(response.statusCode, text, `${method} ${path}`);
    return { status: response.statusCode, data: JSON.parse(text) as T };
  }

  /** Opens every connection of the pool: as many health checks at once as it may hold connections. */
  async openConnections(): Promise<void> {
    await Promise.all(Array.from({ length: this.connections }, () => this.request('GET', '/health', [200])));
  }

  async createEvent(event: {
    name: string;
    totalTickets: number;
    priceCents: number;
    holdSeconds?: number;
    /** ISO 8601: the event sells from then on (the server's clock judges it), pre-queued until. */
    salesStartAt?: string;
  }): Promise<{ id: string }> {
    return (await this.request<{ id: string }>('POST', '/events', [201], event, this.adminHeaders())).data;
  }

  /**
   * Submits a purchase: 202 while it is queued, or, offered `Prefer: wait=N` (`preferWaitSeconds`),
   * 200 with the decided purchase when it was decided within N seconds.
   */
  async submitPurchase(
    eventId: string,
    body: { userId: string; quantity: number },
    idempotencyKey: string,
    preferWaitSeconds = 0,
  ): Promise<PurchaseState> {
    const headers: Record<string, string> = { 'idempotency-key': idempotencyKey };
    if (preferWaitSeconds > 0) headers.prefer = `wait=${preferWaitSeconds}`;
    return (
      await this.request<PurchaseState>('POST', `/events/${eventId}/purchases`, [200, 202], body, headers)
    ).data;
  }

  async getPurchase(purchaseId: string, waitMs = 0): Promise<PurchaseState> {
    const query = waitMs > 0 ? `?waitMs=${waitMs}` : '';
    return (await this.request<PurchaseState>('GET', `/purchases/${purchaseId}${query}`, [200])).data;
  }

  /**
   * Long-polls until the purchase satisfies `done`; with `until` (a `performance.now()` time), gives up
   * then and returns the last state read.
   */
  async follow(
    purchaseId: string,
    done: (state: PurchaseState) => boolean,
    until = Number.POSITIVE_INFINITY,
  ): Promise<PurchaseState> {
    for (;;) {
      const waitMs = Math.max(1, Math.min(30_000, Math.round(until - performance.now())));
      const state = await this.getPurchase(purchaseId, waitMs);
      if (done(state) || performance.now() >= until) return state;
    }
  }

  async cancel(purchaseId: string): Promise<void> {
    await this.request('POST', `/purchases/${purchaseId}/cancel`, [202]);
  }

  /** Confirms a held purchase's payment; a 409 (too late, cancelled) is an answer, not an error. */
  async confirm(purchaseId: string, paymentReference: string): Promise<ConfirmOutcome> {
    const { status, data } = await this.request<PurchaseState | { code: string }>(
      'POST',
      `/purchases/${purchaseId}/confirm`,
      [200, 409],
      { paymentReference },
    );
    return status === 200
      ? { confirmed: data as PurchaseState }
      : { refused: (data as { code: string }).code };
  }

  async event(eventId: string): Promise<EventState> {
    return (await this.request<EventState>('GET', `/events/${eventId}`, [200])).data;
  }

  /**
   * An admin operation on an event's sale: `PATCH /events/:id` with `change`, or `POST
   * /events/:id/<operation>` (a cancellation answers 202 while it is carried out). A 409 is an answer.
   */
  async operateSale(
    eventId: string,
    operation: 'pause' | 'resume' | 'close' | 'cancel' | { readonly change: Record<string, unknown> },
  ): Promise<OperationOutcome> {
    const patch = typeof operation !== 'string';
    const body = patch
      ? operation.change
      : operation === 'cancel'
        ? { reason: 'the load client cancels it' }
        : {};
    const { status, data } = await this.request<EventState | { code: string }>(
      patch ? 'PATCH' : 'POST',
      patch ? `/events/${eventId}` : `/events/${eventId}/${operation}`,
      [200, 202, 409],
      body,
      this.adminHeaders(),
    );
    return status === 409 ? { refused: (data as { code: string }).code } : { event: data as EventState };
  }

  async draw(eventId: string): Promise<DrawState> {
    return (await this.request<DrawState>('GET', `/events/${eventId}/draw`, [200])).data;
  }

  async status(eventId: string) {
    return (
      await this.request<{
        totalTickets: number;
        soldTickets: number;
        heldTickets: number;
        waitlistCount: number;
      }>('GET', `/events/${eventId}/status`, [200])
    ).data;
  }

  async report(eventId: string) {
    return (
      await this.request<{
        ticketsSold: number;
        revenueCents: number;
        waitlisted: number;
        holdsExpired: number;
        /** What the bookings a cancellation of the event cancelled were paid (docs/running-a-sale.md). */
        refundDueCents?: number;
      }>('GET', `/events/${eventId}/report`, [200], undefined, this.adminHeaders())
    ).data;
  }

  private adminHeaders(): Record<string, string> {
    return this.adminToken === undefined ? {} : { authorization: `Bearer ${this.adminToken}` };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
