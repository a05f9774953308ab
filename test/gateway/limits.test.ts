import { describe, expect, it } from 'vitest';
import { clientIp, limitKey } from '../../src/gateway/client-ip.js';
import { AddressLimits, type AddressLimitsConfig } from '../../src/gateway/limits.js';

const config: AddressLimitsConfig = {
  maxConnections: 4,
  maxConnectionsPerIp: 2,
  roomPerMinute: 60,
  roomBurst: 3,
  guessLimit: 3,
  guessWindowMs: 60_000,
  maxTracked: 1000,
};

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('AddressLimits', () => {
  it('caps sockets per address and in all; a release frees the slot', () => {
    const limits = new AddressLimits(config);
    expect([limits.admit('a'), limits.admit('a'), limits.admit('a')]).toEqual(['ok', 'ok', 'address_full']);
    expect([limits.admit('b'), limits.admit('b'), limits.admit('c')]).toEqual(['ok', 'ok', 'node_full']);
    limits.release('a');
    expect(limits.admit('c')).toBe('ok');
    expect(limits.connections).toBe(4);
    limits.release('unknown');
    expect(limits.connections).toBe(4);
  });

  it('rooms: a bucket per address that refills with time', () => {
    const t = clock();
    const limits = new AddressLimits(config, t.now);
    expect([limits.takeRoom('a'), limits.takeRoom('a'), limits.takeRoom('a'), limits.takeRoom('a')]).toEqual([true, true, true, false]);
    expect(limits.takeRoom('b')).toBe(true);
    t.advance(1000); // 60 a minute: one more after a second
    expect([limits.takeRoom('a'), limits.takeRoom('a')]).toEqual([true, false]);
  });

  it('guesses: blocked after the limit within the window, free again once the oldest miss is out of it', () => {
    const t = clock();
    const limits = new AddressLimits(config, t.now);
    for (let i = 0; i < 3; i++) {
      expect(limits.guessBlocked('a')).toBe(false);
      limits.missed('a');
      t.advance(10_000);
    }
    expect(limits.guessBlocked('a')).toBe(true);
    expect(limits.guessBlocked('b')).toBe(false);
    t.advance(30_000); // the first miss is now 60 s old
    expect(limits.guessBlocked('a')).toBe(false);
    limits.missed('a');
    expect(limits.guessBlocked('a')).toBe(true);
  });

  it('a gate counts a guess as failed until it is refunded', () => {
    const limits = new AddressLimits(config);
    const gate = limits.gate('a');
    expect([gate.takeGuess(), gate.takeGuess(), gate.takeGuess(), gate.takeGuess()]).toEqual([true, true, true, false]);
    gate.refundGuess(); // one of them found its room
    expect([gate.takeGuess(), gate.takeGuess()]).toEqual([true, false]);
    expect(limits.gate('b').takeGuess()).toBe(true);
  });

  it('keeps at most maxTracked addresses however many it sees, least recently seen first out', () => {
    const limits = new AddressLimits({ ...config, maxTracked: 1000 });
    limits.missed('kept');
    for (let i = 0; i < 200_000; i++) {
      limits.takeRoom(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 500 === 0) limits.missed('kept'); // seen again and again: stays
    }
    expect(limits.tracked).toBeLessThanOrEqual(1000);
    expect(limits.guessBlocked('kept')).toBe(true);
  });

  it('sweeps away addresses that would behave as new ones', () => {
    const t = clock();
    const limits = new AddressLimits(config, t.now);
    limits.takeRoom('a');
    limits.missed('b');
    limits.takeRoom('c');
    t.advance(1000); // a and c have refilled; b's miss is recent
    expect(limits.sweep()).toBe(2);
    expect(limits.tracked).toBe(1);
    t.advance(60_000);
    expect(limits.sweep()).toBe(1);
    expect(limits.tracked).toBe(0);
  });
});

describe('client addresses', () => {
  it('are the socket peer unless proxies are trusted; then counted from the right of X-Forwarded-For', () => {
    expect(clientIp('10.0.0.9', '1.2.3.4', 0)).toBe('10.0.0.9');
    expect(clientIp('10.0.0.9', undefined, 1)).toBe('10.0.0.9');
    expect(clientIp('10.0.0.9', '6.6.6.6, 1.2.3.4', 1)).toBe('1.2.3.4');
    expect(clientIp('10.0.0.9', '6.6.6.6, 1.2.3.4, 10.0.0.8', 2)).toBe('1.2.3.4');
    // Fewer entries than hops: the furthest one there is.
    expect(clientIp('10.0.0.9', '1.2.3.4', 3)).toBe('1.2.3.4');
    // Garbage where an address should be: the peer.
    expect(clientIp('10.0.0.9', 'not-an-ip', 1)).toBe('10.0.0.9');
    expect(clientIp('10.0.0.9', ['6.6.6.6', '2001:db8::1'], 1)).toBe('2001:db8::1');
  });

  it('are limited as IPv4 addresses or IPv6 /64 networks', () => {
    expect(limitKey('1.2.3.4')).toBe('1.2.3.4');
    expect(limitKey('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(limitKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:DB8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(limitKey('::1')).toBe('0:0:0:0::/64');
    expect(limitKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
