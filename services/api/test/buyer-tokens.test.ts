import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { freePort } from '@ticketing/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpHelpers, type PurchaseBody } from './support/http.js';
import { registeredRoutes, sampleUrl } from './support/routes.js';
import { startTestSystem, useTestSystem, type TestSystem } from './support/test-system.js';

const SECRET = 'a-shop-back-end-secret-of-32-chars-or-more';
const ISSUER = 'https://shop.example';
const AUDIENCE = 'ticketing';
const USER_MAX = 3;

const key = (secret: string) => new TextEncoder().encode(secret);

/** A token as the shop's back end would issue it, with whatever a case changes. */
function token(
  sub: string | undefined,
  options: { secret?: string; alg?: string; claims?: JWTPayload; expiresIn?: string | number } = {},
) {
  const jwt = new SignJWT({ iss: ISSUER, aud: AUDIENCE, ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m');
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt.sign(key(options.secret ?? SECRET));
}
const bearer = async (sub: string) => ({ authorization: `Bearer ${await token(sub)}` });

const system = await useTestSystem({
  BUYER_JWT_SECRET: SECRET,
  BUYER_JWT_ISSUER: ISSUER,
  BUYER_JWT_AUDIENCE: AUDIENCE,
  RATE_LIMIT_USER_MAX: String(USER_MAX),
});
const { inject, createEvent } = httpHelpers(() => system);
const countPurchases = async (eventId: string) =>
  (
    await system.deps.db
      .selectFrom('purchases')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('eventId', '=', eventId)
      .executeTakeFirstOrThrow()
  ).count;

async function buyAs(sub: string, eventId: string): Promise<PurchaseBody> {
  const response = await inject({
    method: 'POST',
    url: `/events/${eventId}/purchases`,
    headers: await bearer(sub),
    payload: {},
  });
  expect(response.statusCode, response.body).toBe(202);
  const purchase = response.json<PurchaseBody>();
  const decided = await inject({
    method: 'GET',
    url: `/purchases/${purchase.purchaseId}?waitMs=5000`,
    headers: await bearer(sub),
  });
  expect(decided.statusCode).toBe(200);
  return decided.json<PurchaseBody>();
}

describe('buyer tokens (HS256)', () => {
  it('when a buyer route is called without a token, then it is 401 with a Bearer challenge, for every buyer route', async () => {
    const document = (await inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    }>();
    const buyerRoutes = (await registeredRoutes(system.deps)).filter(
      ({ method, url }) =>
        document.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]?.security?.some(
          (requirement) => 'buyerToken' in requirement,
        ) === true,
    );
    expect(buyerRoutes.map(({ method, url }) => `${method} ${url}`).sort()).toEqual([
      'GET /purchases/:id',
      'POST /book',
      'POST /cancel',
      'POST /events/:id/purchases',
      'POST /purchases/:id/cancel',
      'POST /purchases/:id/confirm',
    ]);
    for (const { method, url } of buyerRoutes) {
      const response = await inject({
        method: method as 'GET',
        url: sampleUrl(url),
        ...(method === 'POST' ? { payload: { userId: 'u1', eventId: randomUUID() } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
      expect(response.json()).toEqual({ code: 'buyer_token_required', message: expect.any(String) });
      expect(response.headers['www-authenticate']).toBe(
        'Bearer realm="Ticketing buyers", error="invalid_token"',
      );
    }
  });

  it('when a token is forged, expired, for another audience or issuer, unsigned or of another algorithm, then it is 401 and nothing is stored', async () => {
    const event = await createEvent({ totalTickets: 5 });
    const { privateKey } = await generateKeyPair('RS256');
    const refused: Record<string, string> = {
      forged: await token('mallory', { secret: 'another-secret-of-thirty-two-characters' }),
      expired: await token('alice', { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      'wrong audience': await token('alice', { claims: { aud: 'another-service' } }),
      'wrong issuer': await token('alice', { claims: { iss: 'https://attacker.example' } }),
      'alg none': new UnsecuredJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: 9_999_999_999 }).encode(),
      // Signed with the right secret, but not with the one algorithm configured.
      HS512: await token('alice', { alg: 'HS512' }),
      RS256: await new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE })
        .setProtectedHeader({ alg: 'RS256' })
        .setExpirationTime('5m')
        .sign(privateKey),
      'no subject': await token(undefined),
      'blank subject': await token(' '),
      'no expiry': await new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(key(SECRET)),
      'not a JWT': 'not.a.jwt',
    };
    for (const [name, jwt] of Object.entries(refused)) {
      const response = await inject({
        method: 'POST',
        url: `/events/${event.id}/purchases`,
        headers: { authorization: `Bearer ${jwt}` },
        payload: { userId: 'alice' },
      });
      expect(response.statusCode, name).toBe(401);
      expect(response.json(), name).toEqual({ code: 'invalid_token', message: expect.any(String) });
    }
    // A tampered payload keeps the signature of another.
    const [header, , signature] = (await token('alice')).split('.');
    const tampered = Buffer.from(
      JSON.stringify({ sub: 'bob', iss: ISSUER, aud: AUDIENCE, exp: 9_999_999_999 }),
    ).toString('base64url');
    const response = await inject({
      method: 'POST',
      url: '/book',
      headers: { authorization: `Bearer ${header}.${tampered}.${signature}` },
      payload: { eventId: event.id },
    });
    expect(response.statusCode).toBe(401);
    expect(await countPurchases(event.id)).toBe(0);
  });

  it('when a valid token buys, then the buyer is its sub; a body naming someone else is 403 and stores nothing', async () => {
    const event = await createEvent({ totalTickets: 5 });
    const own = await buyAs('alice', event.id);
    expect(own).toMatchObject({ userId: 'alice', status: 'confirmed' });

    const same = await inject({
      method: 'POST',
      url: `/events/${event.id}/purchases`,
      headers: await bearer('bob'),
      payload: { userId: 'bob' },
    });
    expect(same.statusCode).toBe(202);
    expect(same.json()).toMatchObject({ userId: 'bob' });

    for (const [url, payload] of [
      [`/events/${event.id}/purchases`, { userId: 'carol' }],
      ['/book', { userId: 'carol', eventId: event.id }],
    ] as const) {
      const refused = await inject({ method: 'POST', url, headers: await bearer('mallory'), payload });
      expect(refused.statusCode, url).toBe(403);
      expect(refused.json()).toEqual({ code: 'user_mismatch', message: expect.any(String) });
    }
    const rows = await system.deps.db
      .selectFrom('purchases')
      .select('userId')
      .where('eventId', '=', event.id)
      .orderBy('seq')
      .execute();
    expect(rows.map((row) => row.userId)).toEqual(['alice', 'bob']);
  });

  it("when one buyer reaches for another's purchase through any route, then it does not exist for them and nothing changes", async () => {
    const event = await createEvent({ totalTickets: 5 });
    const alices = await buyAs('alice', event.id);
    const mallory = await bearer('mallory');
    const missing = await inject({ method: 'GET', url: `/purchases/${randomUUID()}`, headers: mallory });
    expect(missing.statusCode).toBe(404);

    const attempts = [
      { method: 'GET', url: `/purchases/${alices.purchaseId}` },
      { method: 'GET', url: `/purchases/${alices.purchaseId}?waitMs=2000` },
      { method: 'POST', url: `/purchases/${alices.purchaseId}/cancel` },
      // The seed route cancels the caller's own booking: mallory has none.
      { method: 'POST', url: '/cancel', payload: { eventId: event.id } },
    ] as const;
    for (const attempt of attempts) {
      const response = await inject({ ...attempt, headers: mallory });
      expect(response.statusCode, attempt.url).toBe(404);
      // The same answer as for a purchase that does not exist.
      if (attempt.url.startsWith('/purchases/')) expect(response.json()).toEqual(missing.json());
    }
    const named = await inject({
      method: 'POST',
      url: '/cancel',
      headers: mallory,
      payload: { userId: 'alice', eventId: event.id },
    });
    expect(named.statusCode).toBe(403);

    const row = await system.deps.db
      .selectFrom('purchases')
      .selectAll()
      .where('id', '=', alices.purchaseId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'confirmed', cancelRequestedAt: null });

    // Alice herself can.
    const cancelled = await inject({
      method: 'POST',
      url: '/cancel',
      headers: await bearer('alice'),
      payload: { eventId: event.id },
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ purchaseId: alices.purchaseId, status: 'cancelled' });
  });

  it("when a buyer confirms a hold, then only the hold's own buyer can, and another buyer gets 404", async () => {
    const event = await createEvent({ totalTickets: 5, holdSeconds: 60 });
    const alices = await buyAs('alice', event.id);
    expect(alices.status).toBe('held');
    const url = `/purchases/${alices.purchaseId}/confirm`;
    expect((await inject({ method: 'POST', url })).statusCode).toBe(401);
    expect((await inject({ method: 'POST', url, headers: await bearer('mallory') })).statusCode).toBe(404);
    const own = await inject({ method: 'POST', url, headers: await bearer('alice') });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ purchaseId: alices.purchaseId, status: 'confirmed' });
  });

  it("when buyers send no userId, then the per-user rate limit counts each token's sub apart", async () => {
    const event = await createEvent({ totalTickets: 100 });
    const submit = async (sub: string, remoteAddress: string) =>
      (
        await inject({
          method: 'POST',
          url: `/events/${event.id}/purchases`,
          headers: await bearer(sub),
          payload: { joinWaitlist: false },
          remoteAddress,
        })
      ).statusCode;
    const bot = `bot-${randomUUID()}`;
    const statuses = [];
    for (let index = 0; index < USER_MAX + 1; index += 1)
      statuses.push(await submit(bot, `203.0.113.${index + 1}`));
    expect(statuses).toEqual([...Array<number>(USER_MAX).fill(202), 429]);
    // Someone else, also without a body userId, is not counted with the bot.
    expect(await submit(`fan-${randomUUID()}`, '203.0.113.50')).toBe(202);
  });
});

describe('buyer tokens from an identity provider (JWKS)', () => {
  let jwks: Server;
  let jwksRequests = 0;
  let provider: TestSystem;
  let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_request, response) => {
      jwksRequests += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    provider = await startTestSystem(
      { BUYER_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, BUYER_JWT_ISSUER: ISSUER },
      { worker: false },
    );
  });
  afterAll(async () => {
    await provider?.close();
    jwks?.closeAllConnections();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const signed = (claims: JWTPayload, kid = 'key-1') =>
    new SignJWT({ iss: ISSUER, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setExpirationTime('5m')
      .sign(signingKey);

  it("when a token is signed with the provider's key, then it is accepted; the keys are fetched once and cached", async () => {
    const create = await provider.app.inject({
      method: 'POST',
      url: '/events',
      payload: { name: 'IdP sale', totalTickets: 3, priceCents: 0 },
    });
    const eventId = create.json<{ id: string }>().id;
    for (const sub of ['idp-user-1', 'idp-user-2']) {
      const response = await provider.app.inject({
        method: 'POST',
        url: `/events/${eventId}/purchases`,
        headers: { authorization: `Bearer ${await signed({ sub })}` },
        payload: {},
      });
      expect(response.statusCode, response.body).toBe(202);
      expect(response.json()).toMatchObject({ userId: sub });
    }
    expect(jwksRequests).toBe(1);
  });

  it('when a token names an unknown key, is HS256 (key confusion) or comes from another issuer, then it is 401', async () => {
    const publicJwk = (await (
      await fetch(`http://127.0.0.1:${(jwks.address() as AddressInfo).port}`)
    ).json()) as {
      keys: { x: string }[];
    };
    const refused = [
      await signed({ sub: 'x' }, 'key-2'),
      // The public key's bytes used as an HMAC secret: only asymmetric algorithms are accepted.
      await new SignJWT({ sub: 'x', iss: ISSUER })
        .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
        .setExpirationTime('5m')
        .sign(key(publicJwk.keys[0]?.x ?? '')),
      await signed({ sub: 'x', iss: 'https://attacker.example' }),
    ];
    for (const [index, jwt] of refused.entries()) {
      const response = await provider.app.inject({
        method: 'GET',
        url: `/purchases/${randomUUID()}`,
        headers: { authorization: `Bearer ${jwt}` },
      });
      expect(response.statusCode, `case ${index}: ${response.body}`).toBe(401);
      expect(response.json()).toMatchObject({ code: 'invalid_token' });
    }
  });

  it('when the identity provider cannot be reached before its keys are known, then buyers get 503 to retry, not 401', async () => {
    const away = await startTestSystem(
      { BUYER_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks.json` },
      { worker: false },
    );
    try {
      const response = await away.app.inject({
        method: 'GET',
        url: `/purchases/${randomUUID()}`,
        headers: { authorization: `Bearer ${await signed({ sub: 'x' })}` },
      });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ code: 'unavailable', message: expect.any(String) });
    } finally {
      await away.close();
    }
  });
});
