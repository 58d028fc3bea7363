import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/** JSON logs by default; human-readable ones only when a person is watching a terminal. */
export function createLogger(options: { level: LogLevel; name: string }): Logger {
  const pretty = process.stdout.isTTY === true;
  return pino({
    name: options.name,
    level: options.level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
