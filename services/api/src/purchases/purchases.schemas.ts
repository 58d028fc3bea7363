import { Type, type Static } from 'typebox';
import {
  PURCHASE_STATUSES,
  PURCHASE_REASONS,
  type PurchaseStatus,
  type PurchaseReason,
} from '@ticketing/shared';
import { Uuid } from '../http/common.schemas.js';
import { MAX_PER_PURCHASE_LIMIT } from '../events/events.schemas.js';

/** Clients of the original system send numeric user ids; both forms are accepted and stored as text. */
export const UserId = Type.Union([
  Type.String({ minLength: 1, maxLength: 128, pattern: '^\\S(.*\\S)?$' }),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
]);

/** With buyer tokens on, the buyer is the token's; a body may still name them (the same id, or 403). */
export const BuyerUserId = Type.Optional(
  Type.Union(UserId.anyOf, {
    description:
      "The buyer. Required while buyer tokens are off; with them on, the token's `sub` is the buyer and " +
      'this may be left out (if given, it must be the same).',
  }),
);

export const SubmitPurchaseBody = Type.Object(
  {
    userId: BuyerUserId,
    quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PER_PURCHASE_LIMIT, default: 1 })),
    joinWaitlist: Type.Optional(
      Type.Boolean({ default: true, description: 'Wait in line when sold out, instead of being rejected' }),
    ),
  },
  { additionalProperties: false },
);
export type SubmitPurchaseInput = Static<typeof SubmitPurchaseBody>;

export const SubmitPurchaseHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7E]+$' }),
  ),
  prefer: Type.Optional(
    Type.String({
      maxLength: 1000,
      description:
        '`wait=N` (RFC 7240, seconds, at most 30 are honoured): answer 200 with the decided purchase as soon ' +
        'as it is decided, or 202 as without it once N seconds run out. Other preferences are ignored.',
    }),
  ),
});

export const PurchaseView = Type.Object(
  {
    purchaseId: Uuid,
    eventId: Uuid,
    userId: Type.String(),
    quantity: Type.Integer(),
    status: Type.Unsafe<PurchaseStatus>({ type: 'string', enum: [...PURCHASE_STATUSES] }),
    bookingId: Type.Optional(Uuid),
    holdExpiresAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          'While held: confirm (`POST /purchases/{id}/confirm`) before this, or the tickets go to the next in line',
      }),
    ),
    paymentReference: Type.Optional(
      Type.String({
        description: 'Once confirmed from a hold: the payment reference the shop confirmed it with',
      }),
    ),
    waitlistPosition: Type.Optional(Type.Integer({ minimum: 1, description: '1 = next in line' })),
    reason: Type.Optional(Type.Unsafe<PurchaseReason>({ type: 'string', enum: [...PURCHASE_REASONS] })),
    cancellationRequested: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    processedAt: Type.Optional(Type.String({ format: 'date-time' })),
    queuePosition: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'While waiting: how many purchases of this event will be decided before this one (0 = next). ' +
          'Queued: those accepted before it and not decided yet, and in an on-sale every entrant of the draw ' +
          'still undecided. Pre-queued (an entrant of the draw): the entrants with a lower draw key not ' +
          'decided yet, exact from the draw on; absent before the draw is made (until the sale start and ' +
          'about a second after it).',
      }),
    ),
    estimatedWaitMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "While waiting: a rough wait until it is decided, from the event's recent processing rate",
      }),
    ),
  },
  { $id: 'Purchase', description: 'A purchase and its outcome' },
);
export type PurchaseView = Static<typeof PurchaseView>;

export const ConfirmHoldBody = Type.Object(
  {
    paymentReference: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^\\S(.*\\S)?$',
        description: "The shop's reference of the payment, kept on the booking",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ConfirmHoldInput = Static<typeof ConfirmHoldBody>;

export const MAX_WAIT_MS = 30_000;

export const GetPurchaseQuery = Type.Object(
  {
    waitMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_MS,
        description:
          'Long-poll: answer once the purchase is decided and a cancellation requested of it is carried out',
      }),
    ),
  },
  { additionalProperties: false },
);
