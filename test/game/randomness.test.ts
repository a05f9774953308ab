import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newRoomSnapshot, stepRoom, type RoomEvent } from '../../actors/room-machine.js';
import { cardKey, decide, ENTROPY_BYTES, evolve, randomStream, shuffled, type GameEvent } from '../../src/game/index.js';
import { freshEntropy } from '../../src/runtime/entropy.js';
import { lobby, testEntropy } from '../support/game.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('randomness: a deal nobody can predict', () => {
  it('takes its entropy as 32 bytes and refuses anything shorter (no deal from fewer than 128 bits)', () => {
    expect(ENTROPY_BYTES * 8).toBeGreaterThanOrEqual(128);
    for (const short of ['', '00', hex(15), hex(16), hex(31), hex(32).toUpperCase(), `${hex(31)}zz`, '42']) {
      expect(() => randomStream(short, 'deal')).toThrow(RangeError);
      expect(() => shuffled([1, 2, 3], short, 'deal')).toThrow(RangeError);
      // The decider deals only from full entropy: a start with less throws rather than deal.
      expect(() => decide(lobby(['a', 'b']), { type: 'start_game', by: 'a' }, short)).toThrow(RangeError);
    }
    expect(() => randomStream(hex(32), 'deal')).not.toThrow();
  });

  it('two games started with the same inputs but other entropy get different deals; the same entropy, the same deal', () => {
    const start = (entropy: string) => {
      const decision = decide(lobby(['a', 'b', 'c']), { type: 'start_game', by: 'a' }, entropy);
      if (!decision.ok) throw new Error(decision.refusal.message);
      return decision.events.find((e) => e.type === 'round_started') as Extract<GameEvent, { type: 'round_started' }>;
    };
    const shoes = new Set<string>();
    for (let i = 0; i < 50; i++) shoes.add(start(hex(32)).data.shoe.map(cardKey).join());
    expect(shoes.size).toBe(50);
    const fixed = hex(32);
    expect(start(fixed).data.shoe).toEqual(start(fixed).data.shoe);
  });

  it('the room machine deals from the entropy of the event, not from anything else in it', () => {
    const dealt = (entropy: string) => {
      let snap = newRoomSnapshot({ cpu_think_ms: 1, round_pause_ms: 1, disconnect_grace_ms: 1 });
      const send = (event: RoomEvent) => {
        const out = stepRoom(snap, event);
        snap = out.snapshot;
        return out.emitted;
      };
      const cmd = (player: string, command: Parameters<typeof send>[0] extends infer E ? E extends { type: 'command'; command: infer C } ? C : never : never, e = testEntropy('same', snap.context.game.seq)) =>
        send({ type: 'command', player_id: player, command_id: null, command, now: 0, entropy: e });
      cmd('h', { type: 'create_room', name: 'H', options: {}, game_id: 'g', room: 'ABCD', token_hash: 'x' });
      cmd('h', { type: 'add_cpu', profile: 'Sofia', new_player_id: 'c1' });
      cmd('h', { type: 'start_game' }, entropy);
      return snap.context.game.players.flatMap((p) => p.hand.map((slot) => cardKey(slot.card))).join();
    };
    expect(dealt(hex(32))).not.toBe(dealt(hex(32)));
    const fixed = hex(32);
    expect(dealt(fixed)).toBe(dealt(fixed));
  });

  it('a reshuffle of the discard pile is drawn from the command\'s entropy and carried in its event', () => {
    const decision = decide(lobby(['a', 'b']), { type: 'start_game', by: 'a' }, hex(32));
    if (!decision.ok) throw new Error('refused');
    let s = decision.events.reduce(evolve, lobby(['a', 'b']));
    s = { ...structuredClone(s), options: { ...s.options, initial_flips: 0 }, phase: 'playing', current_player_id: 'a' };
    s.discard.unshift(...s.deck.splice(1));
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const d = decide(s, { type: 'draw', by: 'a', source: 'deck' }, hex(32));
      if (!d.ok) throw new Error(d.refusal.message);
      const drawn = d.events[0] as Extract<GameEvent, { type: 'card_drawn' }>;
      expect(drawn.data.reshuffled).toHaveLength(s.discard.length - 1);
      orders.add(drawn.data.reshuffled!.map(cardKey).join());
      expect(evolve(s, drawn).deck).toEqual(drawn.data.reshuffled);
    }
    expect(orders.size).toBe(20);
  });

  it('refuses an event whose shoe is not the game\'s cards (a corrupt or forged log)', () => {
    const d = decide(lobby(['a', 'b']), { type: 'start_game', by: 'a' }, hex(32));
    if (!d.ok) throw new Error('refused');
    const [started, round] = d.events as [GameEvent, Extract<GameEvent, { type: 'round_started' }>];
    const s = evolve(lobby(['a', 'b']), started);
    const forged = { ...round, data: { ...round.data, shoe: round.data.shoe.slice(1) } };
    expect(() => evolve(s, forged)).toThrow(/shoe/);
  });

  it('streams are uniform, unbiased and independent per purpose', () => {
    const e = hex(32);
    const rng = randomStream(e, 'deal');
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    const a = randomStream(e, 'deal');
    const b = randomStream(e, 'cpu_move');
    expect([a.nextUint32(), a.nextUint32()]).not.toEqual([b.nextUint32(), b.nextUint32()]);
    for (let i = 0; i < 1000; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('the runtime draws 32 fresh CSPRNG bytes for every event, never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const entropy = freshEntropy();
      expect(entropy).toMatch(/^[0-9a-f]{64}$/);
      seen.add(entropy);
    }
    expect(seen.size).toBe(1000);
  });

  it('no server code draws from Math.random or a 32-bit seed', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
      });
    const offenders = [...files('src'), ...files('actors')].filter((path) => {
      const text = readFileSync(path, 'utf8');
      return /Math\.random|randomInt\(0,\s*2\s*\*\*\s*32\)|createRng|deriveSeed/.test(text);
    });
    expect(offenders).toEqual([]);
  });
});
