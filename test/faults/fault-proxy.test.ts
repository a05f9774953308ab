import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy } from '../support/fault-proxy.js';
import { REDIS_URL } from '../support/node.js';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await FaultProxy.start(Number(new URL(REDIS_URL).port || 6379));
});
afterAll(() => proxy.close());

describe('the fault proxy (harness for the fault tests)', () => {
  it('forwards, delays, holds until healed, and cuts', async () => {
    const redis = new Redis(proxy.url(REDIS_URL), { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    redis.on('error', () => {});
    expect(await redis.ping()).toBe('PONG');
    proxy.delay(150);
    let t = Date.now();
    await redis.ping();
    expect(Date.now() - t).toBeGreaterThanOrEqual(290); // both ways
    proxy.delay(0);
    proxy.hold();
    t = Date.now();
    const held = redis.ping();
    await new Promise((r) => setTimeout(r, 300));
    proxy.heal();
    expect(await held).toBe('PONG');
    expect(Date.now() - t).toBeGreaterThanOrEqual(300);
    proxy.cut();
    await expect(redis.ping()).rejects.toThrow();
    expect(proxy.connections).toBe(0);
    proxy.heal();
    for (let i = 0; i < 50 && redis.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();
  });
});
