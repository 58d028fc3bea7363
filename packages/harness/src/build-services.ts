import { buildServices } from './service-process.js';

/** Vitest global setup of the suites that start api or worker processes: bundles the services once. */
export default buildServices;
