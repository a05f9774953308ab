import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryStateCache } from '../../src/stores/memory-state-cache.js';
import { RedisStateCache } from '../../src/stores/redis-state-cache.js';
import { GONE_MARK, type RoomMeta, type StateCache } from '../../src/stores/state-cache.js';
import { REDIS_URL, uniqueName } from '../support/node.js';

const meta = (game_id: string): RoomMeta => ({ game_id, host_id: 'h', created_at: '2026-01-01T00:00:00.000Z', status: 'lobby', server_id: 'n1', epoch: 1 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redis = new Redis(REDIS_URL);
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

interface Impl {
  name: string;
  make(ttlSeconds: number): { cache: StateCache; prefix: string | null };
}

const impls: Impl[] = [
  {
    name: 'Redis',
    make: (ttlSeconds) => {
      const prefix = `${uniqueName('cache')}:`;
      prefixes.push(prefix);
      return { cache: new RedisStateCache(redis.duplicate(), { prefix, ttlSeconds }), prefix };
    },
  },
  { name: 'memory', make: (ttlSeconds) => ({ cache: new MemoryStateCache(ttlSeconds), prefix: null }) },
];

for (const impl of impls) {
  describe(`state cache contract: ${impl.name}`, () => {
    let cache: StateCache;
    let prefix: string | null;
    beforeAll(() => {
      ({ cache, prefix } = impl.make(3600));
    });

    it('creates a room only if its code is free, and lists it as active', async () => {
      expect(await cache.createRoom('ABCD', meta('g1'))).toBe(true);
      expect(await cache.createRoom('ABCD', meta('g2'))).toBe(false);
      expect(await cache.getRoom('ABCD')).toEqual(meta('g1'));
      expect(await cache.activeRooms()).toContain('ABCD');
      expect(await cache.getRoom('ZZZZ')).toBeNull();
    });

    it('concurrent creations of one code: exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.createRoom('RACE', meta(`g${i}`))));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('updates room fields, but does not resurrect a missing room', async () => {
      await cache.createRoom('UPDT', meta('g1'));
      await cache.updateRoom('UPDT', { status: 'playing', host_id: 'h2' });
      expect(await cache.getRoom('UPDT')).toMatchObject({ server_id: 'n1', epoch: 1, status: 'playing', host_id: 'h2', game_id: 'g1' });
      await cache.updateRoom('NONE', { status: 'playing' });
      expect(await cache.getRoom('NONE')).toBeNull();
      // The owner is not a field anyone may write: it goes through claimRoom / releaseRoom.
      await cache.updateRoom('UPDT', { server_id: 'sneaky', epoch: 99 } as never);
      expect(await cache.getRoom('UPDT')).toMatchObject({ server_id: 'n1', epoch: 1 });
    });

    it('records a room\'s owner only if no newer epoch\'s owner is recorded, and clears it only for its own owner', async () => {
      await cache.createRoom('OWNR', meta('go'));
      expect(await cache.claimRoom('OWNR', { server_id: 'n2', epoch: 5 }, { host_id: 'h5' })).toBe(true);
      expect(await cache.getRoom('OWNR')).toMatchObject({ server_id: 'n2', epoch: 5, host_id: 'h5', game_id: 'go' });
      // A fenced owner (older epoch) never hides the one that fenced it.
      expect(await cache.claimRoom('OWNR', { server_id: 'n1', epoch: 4 }, { host_id: 'old' })).toBe(false);
      expect(await cache.getRoom('OWNR')).toMatchObject({ server_id: 'n2', epoch: 5, host_id: 'h5' });
      // Passivation by the old owner leaves the newer one visible.
      expect(await cache.releaseRoom('OWNR', { server_id: 'n1', epoch: 4 })).toBe(false);
      expect(await cache.releaseRoom('OWNR', { server_id: 'n2', epoch: 4 })).toBe(false);
      expect(await cache.getRoom('OWNR')).toMatchObject({ server_id: 'n2', epoch: 5 });
      expect(await cache.releaseRoom('OWNR', { server_id: 'n2', epoch: 5 })).toBe(true);
      expect(await cache.getRoom('OWNR')).toMatchObject({ server_id: '', epoch: 5 });
      // A newer owner takes it again; a room that is gone is not brought back.
      expect(await cache.claimRoom('OWNR', { server_id: 'n3', epoch: 6 })).toBe(true);
      expect(await cache.getRoom('OWNR')).toMatchObject({ server_id: 'n3', epoch: 6, host_id: 'h5' });
      expect(await cache.claimRoom('GONE', { server_id: 'n3', epoch: 6 })).toBe(false);
      expect(await cache.getRoom('GONE')).toBeNull();
      expect(await cache.releaseRoom('GONE', { server_id: 'n3', epoch: 6 })).toBe(false);
      // Forced: a record PostgreSQL shows to be wrong (an epoch it never gave) is corrected.
      expect(await cache.claimRoom('OWNR', { server_id: 'n4', epoch: 2 }, {}, true)).toBe(true);
      expect(await cache.getRoom('OWNR')).toMatchObject({ server_id: 'n4', epoch: 2 });
    });

    it('saves a snapshot only when it is newer (epoch, then sequence)', async () => {
      await cache.createRoom('SNAP', meta('gs'));
      expect(await cache.saveSnapshot('SNAP', 'gs', { seq: 5, epoch: 1, snapshot: { a: 5 } }, [])).toBe(true);
      expect(await cache.saveSnapshot('SNAP', 'gs', { seq: 4, epoch: 1, snapshot: { a: 4 } }, [])).toBe(false);
      expect(await cache.saveSnapshot('SNAP', 'gs', { seq: 5, epoch: 1, snapshot: { a: 55 } }, [])).toBe(false);
      expect(await cache.loadSnapshot('gs')).toEqual({ seq: 5, epoch: 1, snapshot: { a: 5 } });
      // A newer owner (higher epoch) may write the same sequence; an older one never.
      expect(await cache.saveSnapshot('SNAP', 'gs', { seq: 5, epoch: 2, snapshot: { a: 52 } }, [])).toBe(true);
      expect(await cache.saveSnapshot('SNAP', 'gs', { seq: 9, epoch: 1, snapshot: { a: 9 } }, [])).toBe(false);
      expect(await cache.saveSnapshot('SNAP', 'gs', { seq: 6, epoch: 2, snapshot: { a: 6 } }, [])).toBe(true);
      expect(await cache.loadSnapshot('gs')).toEqual({ seq: 6, epoch: 2, snapshot: { a: 6 } });
      expect(await cache.loadSnapshot('missing')).toBeNull();
      expect(await cache.loadSnapshots(['gs', 'missing'])).toEqual([{ seq: 6, epoch: 2, snapshot: { a: 6 } }, null]);
    });

    it('tracks connected players', async () => {
      await cache.setConnected('PLYR', 'p1', true);
      await cache.setConnected('PLYR', 'p2', true);
      await cache.setConnected('PLYR', 'p1', false);
      expect(await cache.connectedPlayers('PLYR')).toEqual(['p2']);
    });

    it('keeps each player\'s current room', async () => {
      await cache.setPlayerRoom('p9', 'ROOM');
      expect(await cache.getPlayerRoom('p9')).toBe('ROOM');
      expect(await cache.getPlayerRoom('nobody')).toBeNull();
    });

    it('takes an ended room out of the active set', async () => {
      await cache.createRoom('DONE', meta('gd'));
      await cache.deactivate('DONE');
      expect(await cache.activeRooms()).not.toContain('DONE');
      expect(await cache.getRoom('DONE')).not.toBeNull();
    });

    it('puts back lost rooms (the index rebuild) without overwriting newer data; removes a room only if it names the game', async () => {
      const { cache: fresh } = impl.make(3600);
      expect(await fresh.indexBuilt()).toBe(false);
      await fresh.createRoom('LIVE', meta('g-live'));
      await fresh.claimRoom('LIVE', { server_id: 'n9', epoch: 9 }, { status: 'playing' });
      await fresh.createRoom('TAKN', meta('g-new'));
      const lost = (code: string, game_id: string, status: string, active: boolean) => ({
        code,
        meta: { game_id, created_at: '2026-01-01T00:00:00.000Z', status, server_id: 'n-old', epoch: 3 },
        ttlSeconds: 100,
        active,
      });
      const created = await fresh.restoreRooms([
        lost('LIVE', 'g-live', 'lobby', true), // a live node wrote it since: left as it is
        lost('TAKN', 'g-old', 'lobby', true), // names another game: left alone
        lost('BACK', 'g-back', 'playing', true),
        lost('OVER', 'g-over', 'finished', false),
      ]);
      expect(created).toBe(2);
      expect(await fresh.getRoom('LIVE')).toMatchObject({ game_id: 'g-live', server_id: 'n9', epoch: 9, status: 'playing' });
      expect(await fresh.getRoom('TAKN')).toMatchObject({ game_id: 'g-new' });
      expect(await fresh.getRoom('BACK')).toMatchObject({ game_id: 'g-back', status: 'playing', server_id: 'n-old', epoch: 3 });
      expect(await fresh.getRoom('OVER')).toMatchObject({ game_id: 'g-over', status: 'finished' });
      expect(await fresh.activeRooms()).toEqual(['BACK', 'LIVE', 'TAKN']);
      expect(await fresh.lookupRoom('BACK')).toEqual({ meta: expect.objectContaining({ game_id: 'g-back' }), indexed: false });
      expect(await fresh.lookupRoom('NONE')).toEqual({ meta: null, indexed: false });
      // Only the rebuild the cache saw start marks the index whole.
      const first = await fresh.beginIndexBuild('n1');
      const second = await fresh.beginIndexBuild('n2');
      expect(await fresh.markIndexBuilt('n1', first)).toBe(false);
      expect(await fresh.indexBuilt()).toBe(false);
      expect(await fresh.markIndexBuilt('n2', second)).toBe(true);
      expect(await fresh.indexBuilt()).toBe(true);
      expect(await fresh.markIndexBuilt('n2', second)).toBe(false);
      expect(await fresh.lookupRoom('NONE')).toEqual({ meta: null, indexed: true });
      await fresh.removeRoom('BACK', 'g-other');
      expect(await fresh.getRoom('BACK')).not.toBeNull();
      await fresh.removeRoom('BACK', 'g-back');
      expect(await fresh.getRoom('BACK')).toBeNull();
      await fresh.close();
    });

    it('replaceRoom points a room at a new game only over the game it names (or where it expired)', async () => {
      const { cache: fresh } = impl.make(60);
      expect(await fresh.createRoom('NEXT', { ...meta('g-old'), status: 'finished', server_id: 'n1', epoch: 7 })).toBe(true);
      await fresh.deactivate('NEXT');
      // Another game's id: left alone.
      expect(await fresh.replaceRoom('NEXT', 'g-other', meta('g-new'))).toBe(false);
      expect(await fresh.getRoom('NEXT')).toMatchObject({ game_id: 'g-old', epoch: 7 });
      // The finished game's: replaced whole (the new game's owner starts at its own epoch), and active again.
      expect(await fresh.replaceRoom('NEXT', 'g-old', { ...meta('g-new'), status: 'playing', server_id: 'n2', epoch: 1 })).toBe(true);
      expect(await fresh.getRoom('NEXT')).toEqual({ ...meta('g-new'), status: 'playing', server_id: 'n2', epoch: 1 });
      expect(await fresh.activeRooms()).toContain('NEXT');
      // A hash that expired meanwhile is created.
      expect(await fresh.replaceRoom('GONE', 'g-old', meta('g-new'))).toBe(true);
      expect(await fresh.getRoom('GONE')).toMatchObject({ game_id: 'g-new' });
      await fresh.close();
    });

    it('keeps node heartbeats that lapse, and forgets a node at once', async () => {
      await cache.heartbeat('n-alive', 5000);
      await cache.heartbeat('n-short', 300);
      await cache.heartbeat('n-gone', 5000);
      await cache.forgetNode('n-gone');
      expect(await cache.liveNodes(['n-alive', 'n-short', 'n-gone', 'n-never'])).toEqual(new Set(['n-alive', 'n-short']));
      await sleep(400);
      expect(await cache.liveNodes(['n-alive', 'n-short'])).toEqual(new Set(['n-alive']));
      expect(await cache.liveNodes([])).toEqual(new Set());
    });

    it('tells a node that left (drained) from one whose heartbeat is missing', async () => {
      await cache.heartbeat('s-alive', 5000);
      await cache.heartbeat('s-left', 5000);
      await cache.forgetNode('s-left');
      await cache.heartbeat('s-short', 200);
      await sleep(300);
      expect(await cache.nodeStates(['s-alive', 's-left', 's-short', 's-never'])).toEqual(
        new Map([
          ['s-alive', 'live'],
          ['s-left', 'gone'],
          ['s-short', 'missing'],
          ['s-never', 'missing'],
        ]),
      );
      // A node restarted under the same id is alive again.
      await cache.heartbeat('s-left', 5000);
      expect((await cache.nodeStates(['s-left'])).get('s-left')).toBe('live');
      expect(await cache.nodeStates([])).toEqual(new Map());
    });

    it('a heartbeat that keeps a gone mark leaves it and says so; one that does not writes over it', async () => {
      expect(await cache.heartbeat('k-node', 5000, true)).toBe('live');
      await cache.forgetNode('k-node');
      expect(await cache.heartbeat('k-node', 5000, true)).toBe('gone');
      expect((await cache.nodeStates(['k-node'])).get('k-node')).toBe('gone');
      expect(await cache.heartbeat('k-node', 5000)).toBe('live');
      expect((await cache.nodeStates(['k-node'])).get('k-node')).toBe('live');
    });

    it('shows each node\'s heartbeat mark, which changes at every heartbeat (the failure detector watches it)', async () => {
      await cache.heartbeat('m-live', 5000);
      const first = (await cache.heartbeatMarks(['m-live'])).get('m-live');
      expect(first).toEqual(expect.any(String));
      await sleep(5);
      await cache.heartbeat('m-live', 5000);
      expect((await cache.heartbeatMarks(['m-live'])).get('m-live')).not.toBe(first);
      await cache.heartbeat('m-left', 5000);
      await cache.forgetNode('m-left');
      expect(await cache.heartbeatMarks(['m-live', 'm-left', 'm-never'])).toEqual(
        new Map([
          ['m-live', expect.any(String)],
          ['m-left', GONE_MARK],
          ['m-never', null],
        ]),
      );
      expect(await cache.heartbeatMarks([])).toEqual(new Map());
    });

    it('tells which rooms\' leases are held (by anyone)', async () => {
      if (!prefix) {
        // A node alone holds every lease itself: none is held elsewhere.
        expect(await cache.leasesHeld(['LEAS'])).toEqual(new Set());
        return;
      }
      await redis.set(`${prefix}room:LEAS:lease`, 'token', 'PX', 5000);
      expect(await cache.leasesHeld(['LEAS', 'FREE'])).toEqual(new Set(['LEAS']));
      expect(await cache.leasesHeld([])).toEqual(new Set());
    });

    it('uses the key model of DESIGN.md', async () => {
      if (!prefix) return;
      await cache.createRoom('KEYS', meta('gk'));
      await cache.saveSnapshot('KEYS', 'gk', { seq: 1, epoch: 1, snapshot: {} }, ['pk']);
      await cache.setConnected('KEYS', 'pk', true);
      await cache.setPlayerRoom('pk', 'KEYS');
      expect(await redis.type(`${prefix}room:KEYS`)).toBe('hash');
      expect(await redis.type(`${prefix}room:KEYS:players`)).toBe('set');
      expect(await redis.type(`${prefix}game:gk`)).toBe('string');
      expect(await redis.type(`${prefix}rooms:active`)).toBe('set');
      expect(await redis.get(`${prefix}player:pk:room`)).toBe('KEYS');
      expect(await redis.hget(`${prefix}room:KEYS`, 'game_id')).toBe('gk');
      expect(await redis.ttl(`${prefix}room:KEYS`)).toBeGreaterThan(3500);
      await cache.restoreRooms([{ code: 'RBLT', meta: { game_id: 'gr', status: 'lobby' }, ttlSeconds: 120, active: true }]);
      expect(await redis.hget(`${prefix}room:RBLT`, 'game_id')).toBe('gr');
      expect(await redis.ttl(`${prefix}room:RBLT`)).toBeGreaterThan(100);
      expect(await redis.ttl(`${prefix}room:RBLT`)).toBeLessThanOrEqual(120);
      const token = await cache.beginIndexBuild('n1');
      expect(await redis.get(`${prefix}rooms:indexing`)).toBe(token);
      // Redis lost the rebuild's start (restarted): the index is not marked whole.
      await redis.del(`${prefix}rooms:indexing`);
      expect(await cache.markIndexBuilt('n1', token)).toBe(false);
      expect(await redis.exists(`${prefix}rooms:indexed`)).toBe(0);
      expect(await cache.markIndexBuilt('n1', await cache.beginIndexBuild('n1'))).toBe(true);
      expect(await redis.exists(`${prefix}rooms:indexed`)).toBe(1);
    });

    it('with a short TTL, an abandoned room expires while an active one is refreshed', async () => {
      const { cache: short } = impl.make(2);
      await short.createRoom('IDLE', meta('gi'));
      await short.createRoom('BUSY', meta('gb'));
      await short.saveSnapshot('IDLE', 'gi', { seq: 1, epoch: 1, snapshot: {} }, ['pi']);
      await short.setPlayerRoom('pi', 'IDLE');
      await short.setPlayerRoom('pb', 'BUSY');
      await short.setConnected('BUSY', 'pb', true);
      for (let i = 1; i <= 5; i++) {
        await sleep(600);
        await short.saveSnapshot('BUSY', 'gb', { seq: i, epoch: 1, snapshot: {} }, ['pb']);
      }
      expect(await short.getRoom('IDLE')).toBeNull();
      expect(await short.loadSnapshot('gi')).toBeNull();
      expect(await short.getPlayerRoom('pi')).toBeNull();
      expect(await short.getRoom('BUSY')).not.toBeNull();
      expect((await short.loadSnapshot('gb'))?.seq).toBe(5);
      expect(await short.getPlayerRoom('pb')).toBe('BUSY');
      expect(await short.connectedPlayers('BUSY')).toEqual(['pb']);
      // The abandoned room leaves the active set when it is pruned; the busy one stays.
      expect(await short.activeRooms()).toEqual(['BUSY', 'IDLE']);
      expect(await short.pruneActive()).toBe(1);
      expect(await short.activeRooms()).toEqual(['BUSY']);
      await short.close();
    });
  });
}
