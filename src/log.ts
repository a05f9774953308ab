import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger } from 'pino';

/** `json`: one JSON object a line, for collectors; `pretty`: colours and aligned text, for people. */
export type LogFormat = 'json' | 'pretty';

/**
 * pino logs on stdout (nothing in the server uses console.log): JSON unless `format` says
 * otherwise, or, without a format, unless stdout is a terminal (a person is reading).
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, format?: LogFormat): Logger {
  const options = { level, base: { pid: process.pid, ...bindings } };
  if ((format ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'json') return pino(options);
  // Synchronous: a person's terminal is not the bottleneck, and the last lines before an exit
  // (a drain, a failed start) must not be lost in a buffer.
  return pino(options, PinoPretty({ colorize: Boolean(process.stdout.isTTY), sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
