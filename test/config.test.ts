import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, CPU_THINK_MS: 1200, ROUND_PAUSE_MS: 6000, DISCONNECT_GRACE_MS: 30_000, REDIS_PREFIX: 'golf:' });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.NODE_ID).toMatch(/\S+/);
  });
  it('reads the variables PROTOCOL.md lists', () => {
    const config = loadConfig({ PORT: '9000', CPU_THINK_MS: '0', ROUND_PAUSE_MS: '250', DISCONNECT_GRACE_MS: '1000', REDIS_URL: 'redis://r:6379', DATABASE_URL: 'postgres://u@db/golf' });
    expect(config).toMatchObject({ PORT: 9000, CPU_THINK_MS: 0, ROUND_PAUSE_MS: 250, DISCONNECT_GRACE_MS: 1000, REDIS_URL: 'redis://r:6379', DATABASE_URL: 'postgres://u@db/golf' });
  });
  it('treats empty variables as unset', () => {
    expect(loadConfig({ REDIS_URL: '', DATABASE_URL: '' }).REDIS_URL).toBeUndefined();
  });
  it('says what is wrong, one line per mistake', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'localhost:6379', DATABASE_URL: 'mysql://x', CPU_THINK_MS: '-5' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/PORT="eighty"/);
    expect(message).toMatch(/REDIS_URL="localhost:6379": must be a URL starting with redis:\/\//);
    expect(message).toMatch(/DATABASE_URL="mysql:\/\/x"/);
    expect(message).toMatch(/CPU_THINK_MS="-5"/);
  });
});
