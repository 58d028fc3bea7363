import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { prepareDatabase } from './migrate.js';

const config = loadConfig();
const log = createLogger({ level: config.logLevel, name: 'migrate' });
const applied = await prepareDatabase(config.databaseUrl);
log.info({ applied }, 'database migrated');
