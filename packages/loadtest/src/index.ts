export { parseOptions, type LoadOptions } from './options.js';
export { runLoad, type LoadResult, type LoadSecond } from './run.js';
export { auditBooks, type EventBooks } from './audit.js';
export { renderReport } from './report.js';
