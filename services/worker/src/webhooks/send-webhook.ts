import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { isPublicAddress, publicAddressLookup } from '@ticketing/shared';

/** What an endpoint has to say beyond its status is of no use to us; reading more only costs. */
const MAX_RESPONSE_BYTES = 4_096;

export interface SendOptions {
  readonly timeoutMs: number;
  readonly blockPrivateNetworks: boolean;
  readonly connections: Connections;
}

/** Kept-alive connections to the endpoints, one pool per scheme. */
export interface Connections {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/**
 * Connections that stay open between deliveries, since most go to the same few endpoints (a TLS
 * handshake costs more than the delivery). With `blockPrivateNetworks`, each connection's address is
 * checked as it is resolved, when it is opened: a reused one was checked then.
 */
export function openConnections(blockPrivateNetworks: boolean, maxSockets: number): Connections {
  const options = {
    keepAlive: true,
    maxSockets,
    ...(blockPrivateNetworks ? { lookup: publicAddressLookup } : {}),
  };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

export interface AttemptResult {
  /** The endpoint's status code; undefined when it never answered. */
  readonly statusCode?: number;
  /** Why it did not answer (refused, timed out, a blocked address). */
  readonly error?: string;
  /** A 429 or 503's `Retry-After`, in milliseconds. */
  readonly retryAfterMs?: number;
  readonly durationMs: number;
}

export interface SignedMessage {
  readonly id: string;
  readonly body: string;
}

/**
 * POSTs one message to an endpoint, signed the Standard Webhooks way (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 over `id.timestamp.body`, by the
 * `standardwebhooks` package). Redirects are not followed (a 3xx is a failure, per the spec, and a
 * redirect could lead to an address the check would refuse). With `blockPrivateNetworks`, the address
 * connected to is checked as it is resolved (`openConnections`), so DNS cannot be rebound between
 * check and connect.
 */
export async function sendWebhook(
  url: string,
  secret: string,
  message: SignedMessage,
  options: SendOptions,
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const target = new URL(url);
  const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (options.blockPrivateNetworks && isIP(literal) !== 0 && !isPublicAddress(literal)) {
    return { error: `${literal} is not a public address`, durationMs: elapsed() };
  }
  const sentAt = new Date();
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(message.body),
    'user-agent': 'ticketing-webhooks/1',
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(message.id, sentAt, message.body),
  };
  const secure = target.protocol === 'https:';
  return new Promise<AttemptResult>((resolve) => {
    const request = (secure ? https : http).request(
      target,
      {
        method: 'POST',
        headers,
        agent: secure ? options.connections.https : options.connections.http,
      },
      (response) => {
        let received = 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        const done = () => {
          const statusCode = response.statusCode ?? 0;
          const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
          resolve({
            statusCode,
            durationMs: elapsed(),
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          });
        };
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      },
    );
    // The whole exchange, not just each wait for a byte: an endpoint dripping its answer is cut off too.
    const deadline = setTimeout(
      () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('close', () => clearTimeout(deadline));
    request.on('error', (error) => resolve({ error: error.message, durationMs: elapsed() }));
    request.end(message.body);
  });
}

function parseRetryAfter(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
