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
  it('says what is wrong, one line per mistake, without echoing a value (they may hold secrets)', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'localhost:6379', DATABASE_URL: 'mysql://golf:s3cret-pw@db/golf', CPU_THINK_MS: '-5', METRICS_TOKEN: 'short-secret' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^  PORT: /m);
    expect(message).toMatch(/^  REDIS_URL: must be a URL starting with redis:\/\//m);
    expect(message).toMatch(/^  DATABASE_URL: must be a URL starting with postgres:\/\//m);
    expect(message).toMatch(/^  CPU_THINK_MS: /m);
    expect(message).toMatch(/^  METRICS_TOKEN: must be at least 16 characters/m);
    for (const value of ['eighty', 'localhost:6379', 's3cret-pw', 'mysql', '-5', 'short-secret']) expect(message).not.toContain(value);
  });
  it('reads the Redlock quorum (3 or 5 masters, with REDIS_URL) and refuses anything else without echoing it', () => {
    expect(loadConfig({}).REDIS_LOCK_URLS).toBeUndefined();
    const three = 'redis://a:6379, redis://b:6379,redis://c:6379';
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_LOCK_URLS: three }).REDIS_LOCK_URLS).toEqual(['redis://a:6379', 'redis://b:6379', 'redis://c:6379']);
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ REDIS_URL: 'redis://r:6379', REDIS_LOCK_URLS: 'redis://a:1,redis://b:1' })).toMatch(/^  REDIS_LOCK_URLS: must name 3 or 5/m);
    expect(refused({ REDIS_URL: 'redis://r:6379', REDIS_LOCK_URLS: 'redis://a:1,redis://a:1,redis://c:1' })).toMatch(/^  REDIS_LOCK_URLS: must name each master once/m);
    const secret = refused({ REDIS_URL: 'redis://r:6379', REDIS_LOCK_URLS: 'redis://a:1,redis://b:1,http://:pw-s3cret@c:1' });
    expect(secret).toMatch(/^  REDIS_LOCK_URLS: must be a comma-separated list of redis/m);
    expect(secret).not.toContain('pw-s3cret');
    expect(refused({ REDIS_LOCK_URLS: three })).toMatch(/REDIS_LOCK_URLS: needs REDIS_URL/);
  });
  it('reads the limits, the proxy depth, the metrics listener and the allowed origins', () => {
    expect(loadConfig({})).toMatchObject({
      MAX_CONNECTIONS: 10_000,
      MAX_CONNECTIONS_PER_IP: 64,
      TRUST_PROXY: 0,
      SEAT_TIMEOUT_MS: 30_000,
      HEADERS_TIMEOUT_MS: 10_000,
      REQUEST_TIMEOUT_MS: 30_000,
      ROOM_RATE_PER_MINUTE: 60,
      ROOM_RATE_BURST: 20,
      GUESS_LIMIT: 10,
      GUESS_WINDOW_MS: 60_000,
      METRICS_PORT: 9464,
      METRICS_HOST: '127.0.0.1',
    });
    expect(loadConfig({}).ALLOWED_ORIGINS).toBeUndefined();
    expect(loadConfig({}).METRICS_TOKEN).toBeUndefined();
    expect(loadConfig({ ALLOWED_ORIGINS: 'https://Golf.Example, http://localhost:5173/' }).ALLOWED_ORIGINS).toEqual(['https://golf.example', 'http://localhost:5173']);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'golf.example' })).toThrow(/ALLOWED_ORIGINS: must be a comma-separated list of origins/);
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'https://golf.example/path' })).toThrow(ConfigError);
    expect(loadConfig({ TRUST_PROXY: '1', METRICS_PORT: '0' })).toMatchObject({ TRUST_PROXY: 1, METRICS_PORT: 0 });
  });
});
