import { describe, expect, it } from 'vitest';
import { PURCHASE_STATUSES } from '../src/domain/purchase.js';
import { checkWebhookUrl, isPublicAddress } from '../src/webhooks/address-policy.js';
import { deliveryJobId, parseDeliveryJob, retryDelayMs } from '../src/webhooks/delivery-jobs.js';
import { WEBHOOK_EVENT_TYPES, purchaseEventType } from '../src/webhooks/event-types.js';

describe('webhook event types', () => {
  it('when a purchase moves to any status, then its type is purchase.<status>; off the waiting list it is purchase.promoted', () => {
    for (const status of PURCHASE_STATUSES.filter((status) => status !== 'queued')) {
      expect(WEBHOOK_EVENT_TYPES).toContain(`purchase.${status}`);
      expect(purchaseEventType({ status })).toBe(`purchase.${status}`);
    }
    expect(purchaseEventType({ status: 'confirmed', promoted: true })).toBe('purchase.promoted');
    expect(WEBHOOK_EVENT_TYPES).toContain('event.sold_out');
    expect(new Set(WEBHOOK_EVENT_TYPES).size).toBe(WEBHOOK_EVENT_TYPES.length);
  });
});

describe('webhook retries', () => {
  it('when a delivery keeps failing, then the wait starts at the base and doubles up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((failures) => retryDelayMs(failures, 5_000, 60_000))).toEqual([
      5_000, 10_000, 20_000, 40_000, 60_000, 60_000,
    ]);
  });

  it('when a job payload comes from Redis, then only a well-formed one is acted on', () => {
    const job = { endpointId: '3f2b8c1e-7a4d-4e2f-9b1a-0c5d6e7f8a9b', messageSeq: 12 };
    expect(parseDeliveryJob(job)).toEqual(job);
    expect(deliveryJobId(job)).toBe('3f2b8c1e-7a4d-4e2f-9b1a-0c5d6e7f8a9b-12');
    for (const bad of [{ ...job, messageSeq: 0 }, { ...job, endpointId: 'x' }, { ...job, extra: 1 }, null]) {
      expect(parseDeliveryJob(bad)).toBeUndefined();
    }
  });
});

describe('webhook address policy', () => {
  it('when an address is loopback, private, link-local, CGNAT, reserved or maps one, then it is not public', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      'not-an-address',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('when a URL is registered, then only http(s) without credentials passes, and with blocking, public hosts only', async () => {
    expect(await checkWebhookUrl('https://shop.example/hooks', false)).toMatchObject({
      url: expect.any(URL),
    });
    expect(await checkWebhookUrl('http://127.0.0.1:8080/hooks', false)).toMatchObject({
      url: expect.any(URL),
    });
    for (const raw of ['ftp://shop.example', 'javascript:alert(1)', 'https://a:b@shop.example/', 'nope']) {
      expect(await checkWebhookUrl(raw, false), raw).toMatchObject({ problem: expect.any(String) });
    }
    for (const raw of ['http://127.0.0.1/', 'http://localhost/', 'http://[fe80::1]/', 'http://10.0.0.8/']) {
      expect(await checkWebhookUrl(raw, true), raw).toMatchObject({
        problem: expect.stringMatching(/private|resolve/),
      });
    }
    expect(await checkWebhookUrl('http://93.184.216.34/hooks', true)).toMatchObject({ url: expect.any(URL) });
  });
});
