import { describe, expect, it } from 'vitest';
import { checkConfirmable, expiryEffect } from '../src/domain/hold.js';
import { PURCHASE_STATUSES, type PurchaseStatus } from '../src/domain/purchase.js';

const purchase = (
  status: PurchaseStatus,
  options: {
    cancelRequested?: boolean;
    pastHoldExpiry?: boolean;
    paymentReference?: string | null;
    eventCancelled?: boolean;
  } = {},
) => ({
  status,
  cancelRequested: options.cancelRequested ?? false,
  pastHoldExpiry: options.pastHoldExpiry ?? false,
  paymentReference: options.paymentReference ?? null,
  eventCancelled: options.eventCancelled ?? false,
});

describe('expiryEffect', () => {
  it('when the expiry comes for a purchase still held, then it frees the held tickets; in any other status nothing', () => {
    for (const status of PURCHASE_STATUSES) {
      expect(expiryEffect(status)).toBe(status === 'held' ? 'free_hold' : 'none');
    }
  });
});

describe('checkConfirmable', () => {
  it('when held, in time and not being cancelled, then it is confirmed', () => {
    expect(checkConfirmable(purchase('held'), 'pay-1')).toEqual({ kind: 'confirm' });
    expect(checkConfirmable(purchase('held'), undefined)).toEqual({ kind: 'confirm' });
  });

  it('when its event is cancelled, then nothing is confirmed, not even a repeat of an earlier confirmation', () => {
    for (const status of PURCHASE_STATUSES)
      expect(
        checkConfirmable(purchase(status, { eventCancelled: true, paymentReference: 'pay-1' }), 'pay-1'),
      ).toEqual({
        kind: 'refused',
        refusal: { code: 'event_cancelled', message: 'This event is cancelled' },
      });
  });

  it('when held but past its time, then it is refused as hold_expired, whether or not its expiry was carried out', () => {
    expect(checkConfirmable(purchase('held', { pastHoldExpiry: true }), 'pay-1')).toMatchObject({
      kind: 'refused',
      refusal: { code: 'hold_expired' },
    });
    expect(checkConfirmable(purchase('expired', { pastHoldExpiry: true }), 'pay-1')).toMatchObject({
      kind: 'refused',
      refusal: { code: 'hold_expired' },
    });
  });

  it('when cancelled or being cancelled, then it is refused as purchase_cancelled', () => {
    expect(checkConfirmable(purchase('held', { cancelRequested: true }), undefined)).toMatchObject({
      refusal: { code: 'purchase_cancelled' },
    });
    expect(checkConfirmable(purchase('cancelled', { cancelRequested: true }), undefined)).toMatchObject({
      refusal: { code: 'purchase_cancelled' },
    });
  });

  it('when already confirmed, then a repeat is the same answer, unless it names another payment', () => {
    const confirmed = purchase('confirmed', { paymentReference: 'pay-1', pastHoldExpiry: true });
    expect(checkConfirmable(confirmed, 'pay-1')).toEqual({ kind: 'already_confirmed' });
    expect(checkConfirmable(confirmed, undefined)).toEqual({ kind: 'already_confirmed' });
    expect(checkConfirmable(confirmed, 'pay-2')).toMatchObject({
      refusal: { code: 'payment_reference_mismatch' },
    });
    // Confirmed without a reference (at once, on an event without holds): the first confirmation stands.
    expect(checkConfirmable(purchase('confirmed'), undefined)).toEqual({ kind: 'already_confirmed' });
    expect(checkConfirmable(purchase('confirmed'), 'pay-1')).toEqual({ kind: 'already_confirmed' });
  });

  it('when not holding tickets, then it is refused: not decided yet, or not held', () => {
    expect(checkConfirmable(purchase('queued'), undefined)).toMatchObject({
      refusal: { code: 'not_decided' },
    });
    expect(checkConfirmable(purchase('waitlisted'), undefined)).toMatchObject({
      refusal: { code: 'not_held' },
    });
    expect(checkConfirmable(purchase('rejected'), undefined)).toMatchObject({
      refusal: { code: 'not_held' },
    });
  });
});
