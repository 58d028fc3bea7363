export { loadOptions, parseOptions, type LoadOptions } from './options.js';
export { runLoad, type LoadResult, type LoadSecond } from './run.js';
export { auditBooks, type EventBooks } from './audit.js';
export { renderReport } from './report.js';
export { TicketingClient, HttpError, type PurchaseState } from './client.js';
export { mapLimit } from './map-limit.js';
export { auditOnSale, meanPlaceZ, type OnSaleBooks, type OnSaleFigures } from './onsale-audit.js';
export { verifyDraw, verifyDrawAnswer, type VerifyOutcome } from './verify-draw.js';
