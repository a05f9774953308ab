import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** JSON logs on stdout (pino); nothing in the server uses console.log. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
