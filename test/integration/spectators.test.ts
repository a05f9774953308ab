/**
 * Spectators (PROTOCOL.md "Spectators"): anyone with the code watches the public view without a
 * seat; the host can turn it off; players see how many watch; spectators on other nodes get
 * the room's frames over the bus; they follow the room through a drain and a crash of its node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, processEnv, startTestNode, testConfig } from '../support/node.js';
import { assertNoSecrets, playUntil } from '../support/play.js';
import { freePort } from '../support/throwaway.js';

const configs: Config[] = [];
afterAll(async () => {
  for (const config of configs) await cleanup(config);
});

async function node(overrides: Record<string, string> = {}) {
  const config = testConfig(overrides);
  configs.push(config);
  return startTestNode(config);
}

/** Every frame a spectator got shows the public view only. */
function expectPublicOnly(spectator: TestClient): void {
  for (const frame of spectator.frames) {
    assertNoSecrets(frame);
    if (frame.type === 'state' || frame.type === 'welcome') expect(frame.state).toMatchObject({ you: null, must: null, drawn_card: null, replay_id: null });
  }
}

const stateSeqs = (client: TestClient) => client.frames.filter((f) => f.type === 'state').map((f) => f.seq as number);

describe('spectators on one node', () => {
  it('watch: a welcome without seat or token, the public view, the count in players’ views; only watch, sync and leave are let through', async () => {
    const a = await node();
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1 } });
      await host.ok({ type: 'add_cpu', profile: 'Sofia' });
      const spectator = await TestClient.connect(a.port);
      await spectator.ok({ type: 'watch', room: host.room.toLowerCase() });
      const welcome = spectator.frames.find((f) => f.type === 'welcome')!;
      expect(welcome).toMatchObject({ room: host.room, player_id: null, token: null });
      expect(welcome.state.players).toHaveLength(2);
      await host.waitForState((v) => v.spectators === 1);

      for (const message of [{ type: 'draw', source: 'deck' }, { type: 'start_game' }, { type: 'join_room', room: host.room, name: 'Sneaky' }, { type: 'resume', token: host.token }]) {
        const reply = await spectator.request(message);
        expect(reply).toMatchObject({ type: 'error', code: 'unauthorized' });
      }

      await host.ok({ type: 'start_game' });
      await spectator.waitForState((v) => v.phase !== 'lobby');
      await playUntil(host, () => false);
      const last = await spectator.waitForState((v) => v.phase === 'game_over');
      expect(last.spectators).toBe(1);
      // Watching the whole game showed every change, the same table the players saw.
      const { you: _y, must: _m, drawn_card: _d, replay_id: _r, ...table } = host.view;
      expect(last).toMatchObject(table);
      expectPublicOnly(spectator);

      const left = await spectator.request({ type: 'leave' });
      expect(left).toMatchObject({ type: 'ack' });
      await host.waitForState((v) => v.spectators === 0);
      const unknown = await spectator.request({ type: 'watch', room: 'ZZZZ' });
      expect(unknown).toMatchObject({ type: 'error', code: 'unknown_room' });
    } finally {
      await a.drain();
    }
  });

  it('the host turns spectating off: current spectators are dropped (unauthorized), new ones refused; the cap refuses one too many', async () => {
    const a = await node({ SPECTATORS_PER_ROOM: '2' });
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host' });
      const watchers = await Promise.all([1, 2, 3].map(() => TestClient.connect(a.port)));
      await watchers[0]!.ok({ type: 'watch', room: host.room });
      await watchers[1]!.ok({ type: 'watch', room: host.room });
      expect(await watchers[2]!.request({ type: 'watch', room: host.room })).toMatchObject({ type: 'error', code: 'unauthorized' });
      await host.waitForState((v) => v.spectators === 2);

      await host.ok({ type: 'set_options', options: { allow_spectators: false } });
      for (const w of watchers.slice(0, 2)) await w.waitFor((f) => f.type === 'error' && f.code === 'unauthorized' && f.id === undefined);
      await host.waitForState((v) => v.spectators === 0 && v.options.allow_spectators === false);
      expect(await watchers[2]!.request({ type: 'watch', room: host.room })).toMatchObject({ type: 'error', code: 'unauthorized' });
      // Dropped spectators hear nothing more.
      const heard = watchers[0]!.frames.length;
      await host.ok({ type: 'add_cpu' });
      await host.waitForState((v) => v.players.length === 2);
      expect(watchers[0]!.frames.length).toBe(heard);

      await host.ok({ type: 'set_options', options: { allow_spectators: true } });
      await watchers[2]!.ok({ type: 'watch', room: host.room });
    } finally {
      await a.drain();
    }
  });
});

describe('spectators and the next game', () => {
  it('a spectator follows the table into its next game', async () => {
    const a = await node();
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      await host.ok({ type: 'add_cpu', profile: 'Sage' });
      const spectator = await TestClient.connect(a.port);
      await spectator.ok({ type: 'watch', room: host.room });
      await host.ok({ type: 'start_game' });
      await playUntil(host, () => false);
      const over = await spectator.waitForState((v) => v.phase === 'game_over');
      await host.ok({ type: 'next_game' });
      const next = await spectator.waitForState((v) => v.game_id !== over.game_id);
      expect(next.room).toBe(host.room);
      await host.waitForState((v) => v.game_id === next.game_id && v.spectators === 1);
      expectPublicOnly(spectator);
    } finally {
      await a.drain();
    }
  });
});

describe('spectators across nodes', () => {
  it('spectators on another node get the room’s frames through one listener there, and count in the players’ views', async () => {
    const base = testConfig({ LEASE_TTL_MS: '1500' });
    configs.push(base);
    const a = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
    const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 1, initial_flips: 0 } });
      await host.ok({ type: 'add_cpu', profile: 'Priya' });
      const onB = await Promise.all([1, 2, 3].map(() => TestClient.connect(b.port)));
      for (const s of onB) await s.ok({ type: 'watch', room: host.room });
      const onA = await TestClient.connect(a.port);
      await onA.ok({ type: 'watch', room: host.room });
      await host.waitForState((v) => v.spectators === 4);
      // The owner holds one listener for node b's three spectators.
      const actor = a.runtime.hosted().find((r) => r.code === host.room)!;
      expect(actor.spectatorCount).toBe(4);
      await onB[2]!.ok({ type: 'leave' });
      await host.waitForState((v) => v.spectators === 3);
      await host.ok({ type: 'start_game' });
      await playUntil(host, () => false);
      for (const s of [onB[0]!, onB[1]!, onA]) {
        await s.waitForState((v) => v.phase === 'game_over');
        expectPublicOnly(s);
      }
      // The same frames, in the same order, to a spectator here and there.
      expect(stateSeqs(onB[0]!).at(-1)).toBe(stateSeqs(onA).at(-1));
    } finally {
      await b.drain();
      await a.drain();
    }
  });

  it('the host turning spectating off drops the spectators on other nodes too', async () => {
    const base = testConfig({ LEASE_TTL_MS: '1500' });
    configs.push(base);
    const a = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}a` });
    const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
    try {
      const host = await TestClient.connect(a.port);
      await host.ok({ type: 'create_room', name: 'Host' });
      const onB = await Promise.all([1, 2].map(() => TestClient.connect(b.port)));
      for (const s of onB) await s.ok({ type: 'watch', room: host.room });
      await host.waitForState((v) => v.spectators === 2);
      await host.ok({ type: 'set_options', options: { allow_spectators: false } });
      for (const s of onB) await s.waitFor((f) => f.type === 'error' && f.code === 'unauthorized' && f.id === undefined);
      await host.waitForState((v) => v.spectators === 0);
      expect(await onB[0]!.request({ type: 'watch', room: host.room })).toMatchObject({ type: 'error', code: 'unauthorized' });
    } finally {
      await b.drain();
      await a.drain();
    }
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`spectators follow the room when its node ${signal === 'SIGTERM' ? 'drains' : 'crashes'} (a real process): those on other nodes by themselves, its own by watching again`, async () => {
      const base = testConfig({ LEASE_TTL_MS: '1500', ROUND_PAUSE_MS: '600000' });
      configs.push(base);
      const b = await startTestNode({ ...base, NODE_ID: `${base.REDIS_PREFIX}b` });
      const port = await freePort();
      const a = await spawnNode(processEnv(base, port, { CPU_THINK_MS: '5', ROUND_PAUSE_MS: '600000', NODE_ID: `${base.REDIS_PREFIX}proc` }));
      try {
        const host = await TestClient.connect(b.port);
        // The room is created on the process: its host connects there first.
        const creator = await TestClient.connect(port);
        await creator.ok({ type: 'create_room', name: 'OnA', options: { rounds: 1, initial_flips: 0 } });
        await host.ok({ type: 'resume', token: creator.token });
        await creator.close();
        await host.ok({ type: 'add_cpu', profile: 'Marcus' });
        const onA = await TestClient.connect(port);
        await onA.ok({ type: 'watch', room: host.room });
        const onB = await TestClient.connect(b.port);
        await onB.ok({ type: 'watch', room: host.room });
        await host.ok({ type: 'start_game' });
        await playUntil(host, () => host.seq >= 8);
        await onB.waitFor((f: Frame) => f.type === 'state' && f.seq >= host.seq);
        const before = host.seq;

        a.child.kill(signal);
        await a.exited;
        if (signal === 'SIGTERM') await onA.waitFor((f) => f.type === 'reconnect');
        // Its own spectator watches again on a node that is up, as the client does.
        const again = await TestClient.connect(b.port);
        for (let i = 0; ; i++) {
          const reply = await again.request({ type: 'watch', room: host.room });
          if (reply.type === 'ack') break;
          if (i > 60) throw new Error(`watch again refused: ${JSON.stringify(reply)}`);
          await new Promise((r) => setTimeout(r, 250));
        }
        // The players see both still watching, counted by the room's new node.
        await host.waitForState((v) => v.spectators === 2);
        // The host's connection to b follows the room to b by itself; play on to the end.
        await playUntil(host, () => false);
        for (const s of [onB, again]) {
          const last = await s.waitForState((v) => v.phase === 'game_over');
          expect(last.players.map((p: { name: string }) => p.name)).toEqual(['OnA', 'Marcus']);
          expectPublicOnly(s);
        }
        // The spectator on b saw the game go on past the hand-over, without seeing a move twice.
        const seqs = stateSeqs(onB);
        expect(seqs.at(-1)).toBeGreaterThan(before);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(b.runtime.hosted().some((r) => r.code === host.room)).toBe(true);
      } finally {
        if (a.child.exitCode === null) a.child.kill('SIGKILL');
        await b.drain();
      }
    });
  }
});
