export * from './event-types.js';
export * from './outbox.js';
export * from './subscriptions.js';
export * from './address-policy.js';
export * from './delivery-jobs.js';
