import { Type } from 'typebox';
import { Uuid } from '../http/common.schemas.js';

export const SalesReport = Type.Object(
  {
    eventId: Uuid,
    ticketsSold: Type.Integer({
      description:
        'Tickets of confirmed, not cancelled bookings (a hold counts once its payment is confirmed)',
    }),
    revenueCents: Type.Integer({ description: 'What those tickets were sold for, in minor units' }),
    currency: Type.String(),
    bookings: Type.Integer({ description: 'Confirmed, not cancelled bookings' }),
    cancellations: Type.Integer({ description: 'Purchases cancelled by their buyers' }),
    waitlisted: Type.Integer({ description: 'Purchases waiting in line now' }),
    holdsExpired: Type.Integer({
      description: 'Holds that ran out unpaid; their tickets went to the next in line',
    }),
    eventCancelled: Type.Integer({
      description: "Purchases cancelled by the event's cancellation (reason `event_cancelled`)",
    }),
    refundDueCents: Type.Integer({
      description:
        'A cancelled event: what its bookings were paid, to refund (from the moment of the cancellation, ' +
        'whether or not the workers have cancelled each yet); 0 otherwise',
    }),
  },
  { $id: 'SalesReport', description: "An event's sales report" },
);

export const SalesReportPage = Type.Object(
  {
    items: Type.Array(SalesReport),
    nextCursor: Type.Union([Uuid, Type.Null()], { description: 'Pass as `cursor` for the next page' }),
  },
  { description: 'A page of sales reports, one per event in creation order' },
);
