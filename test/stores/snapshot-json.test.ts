import { describe, expect, it } from 'vitest';
import { initialRoomContext, plan, rememberCommand, stateValueFor, type RoomContext, type Timing } from '../../actors/room-machine.js';
import { playCpuGame, randomOptions } from '../../src/ai/selfplay.js';
import { cardFromText, cardText } from '../../src/stores/snapshot-json.js';
import { buildShoe } from '../../src/game/cards.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/stores/state-cache.js';

/** JSON.stringify with every card (rank, suit, deck) written as cardText: what the snapshot text must be. */
const reference = (value: unknown) => JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).join() === 'rank,suit,deck' ? cardText(v) : v));

const timing: Timing = { cpu_think_ms: 800, round_pause_ms: 3000, disconnect_grace_ms: 30000 };

describe('snapshot JSON (memoised by identity)', () => {
  it('is byte for byte JSON.stringify (cards compact) after every transition of whole games, and decodes to the same context', () => {
    for (let seed = 1; seed <= 6; seed++) {
      let context: RoomContext = initialRoomContext(timing);
      let n = 0;
      playCpuGame(seed, 2 + (seed % 4), randomOptions(seed), {
        afterEvents: (state) => {
          n += 1;
          // As the room does: a command id remembered per move (a new list for the mover only).
          const mover = state.players[n % state.players.length]?.id ?? 'nobody';
          // Now and then an id seen before (rememberCommand takes it out of the middle of the list).
          const id = n % 17 === 0 ? `c-${n - 8}` : n % 23 === 0 ? `c-${n - 4 * 31}` : `c-${n}`;
          const applied = rememberCommand(context.applied, mover, id, state.seq, n % 3 ? `fp${n}` : undefined);
          context = plan({ ...context, game: state, applied }, 1_000 * n);
          const record = { seq: state.seq, epoch: 3, snapshot: { value: stateValueFor(state.phase, true), context: { ...context, connected: [] } } };
          const text = encodeSnapshot(record);
          expect(text).toBe(`{"seq":${record.seq},"epoch":3,"snapshot":${reference(record.snapshot)}}`);
          // No card is left as an object: each is a short string.
          expect(text).not.toContain('"rank"');
          expect(decodeSnapshot(text)).toEqual(JSON.parse(JSON.stringify(record)));
        },
      });
      expect(n).toBeGreaterThan(20);
    }
  });

  it('writes each card of every shoe compactly and reads it back; reads snapshots written with cards as objects', () => {
    for (const shoe of [buildShoe(3, true, false), buildShoe(1, true, true)]) {
      for (const card of shoe) expect(cardFromText(cardText(card))).toEqual(card);
      expect(new Set(shoe.map(cardText)).size).toBe(shoe.length);
    }
    // A snapshot from before (cards as objects) decodes as it was written.
    const old = { seq: 2, epoch: 1, snapshot: { value: 'playing', context: { game: { deck: [{ rank: '10', suit: 'hearts', deck: 0 }], discard: [], drawn: { card: { rank: 'A', suit: 'spades', deck: 1 }, source: 'deck' }, players: [{ name: 'Kh0', hand: [{ card: { rank: 'K', suit: 'hearts', deck: 0 }, face_up: false }] }] } } } };
    expect(decodeSnapshot(JSON.stringify(old))).toEqual(old);
    // Written now: compact, and the same state back; a name that reads like a card stays a name.
    const text = encodeSnapshot(old as never);
    expect(text).toContain('"deck":["10h0"]');
    expect(text).toContain('"name":"Kh0"');
    expect(decodeSnapshot(text)).toEqual(old);
  });

  it('leaves out undefined fields and encodes anything else (no cards) as JSON.stringify does', () => {
    const odd = { value: 'x', context: { game: { players: [{ a: 1, b: undefined }], deck: [], options: { z: undefined } }, applied: { p: [['i', 1]] }, extra: undefined } };
    expect(encodeSnapshot({ seq: 1, epoch: 1, snapshot: odd })).toBe(`{"seq":1,"epoch":1,"snapshot":${JSON.stringify(odd)}}`);
    expect(encodeSnapshot({ seq: 1, epoch: 1, snapshot: [1, 'two'] })).toBe('{"seq":1,"epoch":1,"snapshot":[1,"two"]}');
  });
});
