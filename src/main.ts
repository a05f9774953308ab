import { ConfigError, loadConfig, stopDeadlineMs } from './config.js';
import { createLogger } from './log.js';
import { startNode } from './node.js';
import { BackendUnavailable } from './stores/index.js';

// Before the configuration is validated: a LOG_FORMAT it would refuse falls back to the default.
const bootFormat = process.env.LOG_FORMAT === 'json' || process.env.LOG_FORMAT === 'pretty' ? process.env.LOG_FORMAT : undefined;
const bootLog = createLogger(process.env.LOG_LEVEL ?? 'info', {}, bootFormat);
/** The logger of the last resorts below: the node's own once its configuration is read. */
let processLog = bootLog;

// Last resort: a promise nobody waited on failed (a store call fired and forgotten while Redis
// restarts, say). That is a bug to fix where it happens, but not one that should end the
// process and with it every room here: each room has its own lease and fencing for what went
// wrong. Logged as a pino line, and the node goes on.
process.on('unhandledRejection', (reason: unknown) => {
  const err = reason instanceof Error ? reason : new Error(String(reason));
  processLog.error({ err: err.message, name: err.name, stack: err.stack }, 'unhandled rejection (a bug: a promise without a handler)');
});

// A throw that reached the event loop may have left any state half changed: log it and end the
// process (its rooms are adopted by peers, or recovered at the next start).
process.on('uncaughtException', (error: Error) => {
  processLog.fatal({ err: error.message, name: error.name, stack: error.stack }, 'uncaught exception; exiting');
  process.exit(1);
});

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, { node_id: config.NODE_ID }, config.LOG_FORMAT);
  processLog = log;
  const node = await startNode(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // A hard bound: whatever happens, the process ends.
    setTimeout(() => {
      log.error('drain took too long; exiting');
      process.exit(1);
    }, stopDeadlineMs(config)).unref();
    node.drain().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: (error as Error).message }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  void node.drainRequested.then((from) => stop(`drain request from ${from}`));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  if (error instanceof ConfigError || error instanceof BackendUnavailable) bootLog.fatal(error.message);
  else bootLog.fatal({ err: (error as Error).message, stack: (error as Error).stack }, 'failed to start');
  process.exit(1);
});
