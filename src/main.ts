import { ConfigError, loadConfig, stopDeadlineMs } from './config.js';
import { createLogger } from './log.js';
import { startNode } from './node.js';
import { BackendUnavailable } from './stores/index.js';

// Before the configuration is validated: a LOG_FORMAT it would refuse falls back to the default.
const bootFormat = process.env.LOG_FORMAT === 'json' || process.env.LOG_FORMAT === 'pretty' ? process.env.LOG_FORMAT : undefined;
const bootLog = createLogger(process.env.LOG_LEVEL ?? 'info', {}, bootFormat);

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, { node_id: config.NODE_ID }, config.LOG_FORMAT);
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
