/**
 * A hostile client for the gateway: random and mutated frames (valid shapes with wrong values,
 * wrong types, deep nesting, odd Unicode, oversize frames, valid commands out of turn) sent one
 * at a time at a node running in this process, checking after each answer that a refused frame
 * changed nothing. Used by test/integration/fuzz.test.ts (short) and scripts/fuzz-gateway.ts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';
import WebSocket from 'ws';
import type { RunningNode } from '../../src/node.js';

const COMMAND_TYPES = [
  'create_room', 'join_room', 'resume', 'add_cpu', 'remove_player', 'set_options', 'start_game', 'flip_initial', 'draw', 'swap',
  'discard', 'flip', 'skip_flip', 'flip_action', 'knock_early', 'next_round', 'next_game', 'leave', 'watch', 'hello', 'sync',
];

const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 30 }),
  fc.constantFrom(
    '', ' ', '\u0000', '\uD800', '\uDFFF', 'a\uD800b', '\u3164', '\u2800', '\u200B', '\u202E evil', '\uFEFF', 'e\u0301\u0301\u0301\u0301\u0301',
    'Z̷̧̛̛̛͖̳̩̭̟̗̫̋̅̑͗͒̉̂̿̀͌͝', '\u{E0041}', '\u115F\u1160', 'a'.repeat(25), 'A\u0000B', '%', '__proto__', 'constructor', 'ABCD', 'abcd',
    'NaN', '-1', '1e309', 'null', '🂡🂱', '\r\n', 'x'.repeat(300),
  ),
);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  oddString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 6, 2 ** 53, -0, 1.5, null, true, false, [], {}),
  fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 8 }),
  fc.dictionary(oddString, fc.oneof(fc.integer(), fc.boolean(), oddString), { maxKeys: 4 }),
);

/** Commands of the right shape, with values that may or may not be legal now (often out of turn). */
const wellFormed: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('draw'), source: fc.constantFrom('deck', 'discard') }),
  fc.record({ type: fc.constantFrom('swap', 'flip', 'flip_action'), position: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ type: fc.constant('flip_initial'), positions: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) }),
  fc.constantFrom(...['discard', 'skip_flip', 'knock_early', 'next_round', 'start_game', 'sync', 'next_game'].map((type) => ({ type }))),
  fc.record({ type: fc.constant('add_cpu'), profile: fc.constantFrom('Sofia', 'Maya', 'Nobody', '') }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('set_options'), options: fc.record({ rounds: fc.integer({ min: -1, max: 20 }), use_jokers: fc.boolean() }, { requiredKeys: [] }) }),
  fc.record({ type: fc.constant('remove_player'), player_id: fc.string({ maxLength: 12 }) }),
  fc.record({ type: fc.constant('join_room'), room: fc.stringMatching(/^[A-Z]{4}$/), name: oddString }),
  fc.record({ type: fc.constant('create_room'), name: oddString }),
  fc.record({ type: fc.constant('resume'), token: fc.oneof(oddString, fc.stringMatching(/^[A-Z]{4}\.p_[\w-]{12}\.[\w-]{32}$/)) }),
  fc.record({ type: fc.constant('watch'), room: fc.stringMatching(/^[A-Z]{4}$/) }),
  fc.record({ type: fc.constant('hello'), accept: fc.array(oddString, { maxLength: 3 }) }),
);

/** Valid shapes with wrong values and wrong types: every field of a command, randomised. */
const wrongValues: fc.Arbitrary<Record<string, unknown>> = fc.record({
  type: fc.oneof(fc.constantFrom(...COMMAND_TYPES), anyValue),
  source: anyValue,
  position: anyValue,
  positions: anyValue,
  options: anyValue,
  name: anyValue,
  room: anyValue,
  token: anyValue,
  profile: anyValue,
  player_id: anyValue,
}, { requiredKeys: ['type'] });

const withId = <T extends Record<string, unknown>>(arb: fc.Arbitrary<T>) =>
  fc.tuple(arb, fc.oneof(fc.constant(undefined), fc.string({ maxLength: 8 }).map((s) => `f-${s}`), anyValue)).map(([frame, id]) =>
    id === undefined ? frame : { ...frame, id },
  );

const nested: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 100, max: 8000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => {
  const close = open === '[' ? ']' : '}';
  return `{"type":"draw","source":${open.repeat(depth)}1${close.repeat(depth)}}`;
});

/** A frame as text, or a Buffer for a binary frame. */
export type FuzzFrame = string | Buffer;

export const frameArb: fc.Arbitrary<FuzzFrame> = fc.oneof(
  { weight: 4, arbitrary: withId(wellFormed).map((f) => JSON.stringify(f)) },
  { weight: 4, arbitrary: withId(wrongValues).map((f) => JSON.stringify(f)) },
  { weight: 2, arbitrary: fc.tuple(withId(wellFormed), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 8 }), oddString).map(([f, at, cut, junk]) => {
    const text = JSON.stringify(f); // mutated: a slice replaced with junk
    return text.slice(0, at % (text.length + 1)) + junk + text.slice((at % (text.length + 1)) + cut);
  }) },
  { weight: 1, arbitrary: nested },
  { weight: 1, arbitrary: oddString },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.constantFrom('{"type":"draw","source":"deck"}'.padEnd(17 * 1024, ' '), 'x'.repeat(20_000), '[]'.repeat(9000)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
);

export interface FuzzReport {
  frames: number;
  answered: { ack: number; error: number; welcome: number };
  errorCodes: Record<string, number>;
  /** The first message seen for each error code, with the frame that got it. */
  errorSamples: Record<string, string>;
  closes: Record<string, number>;
  /** Frames sent on an open socket that got no answer within the timeout. */
  unanswered: number;
  /** Refused frames after which some room had changed (the failures this looks for). */
  violations: string[];
  uncaught: string[];
  loopDelayMs: { p50: number; p99: number; max: number };
  seconds: number;
}

interface Seat {
  token: string;
  room: string;
}

const quantile = (h: ReturnType<typeof monitorEventLoopDelay>, q: number) => Math.round((h.percentile(q) / 1e6) * 10) / 10;

/**
 * Sends `count` generated frames (seeded) at `node`, from sockets seated in games in play, one
 * frame at a time; after each answer checks that a refused frame changed no room. Sockets the
 * server closes (1008 floods, 1009 oversize) are replaced and resume their seat.
 */
export async function fuzzNode(node: RunningNode, count: number, seed: number, onProgress?: (done: number) => void): Promise<FuzzReport> {
  const report: FuzzReport = {
    frames: 0, answered: { ack: 0, error: 0, welcome: 0 }, errorCodes: {}, errorSamples: {}, closes: {}, unanswered: 0, violations: [], uncaught: [],
    loopDelayMs: { p50: 0, p99: 0, max: 0 }, seconds: 0,
  };
  const onUncaught = (error: unknown) => report.uncaught.push(String((error as Error)?.stack ?? error).slice(0, 500));
  process.on('unhandledRejection', onUncaught);
  process.on('uncaughtException', onUncaught);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = Date.now();
  const frames = fc.sample(frameArb, { numRuns: count, seed });
  let socket: FuzzSocket | null = null;
  let seat: Seat | null = null;
  try {
    for (let i = 0; i < frames.length; i++) {
      if (i % 1500 === 0 || !seat) {
        // A fresh game in play from time to time: two humans, this socket is one of them.
        socket?.close();
        seat = await freshGame(node.port);
        socket = null;
      }
      if (!socket || socket.closed) {
        if (socket?.closedWith) report.closes[socket.closedWith] = (report.closes[socket.closedWith] ?? 0) + 1;
        socket = await FuzzSocket.open(node.port);
        const back = await socket.exchange(JSON.stringify({ type: 'resume', token: seat.token }));
        if (back?.type !== 'welcome') {
          seat = null; // the seat is gone (left, or the game ended): start another game
          continue;
        }
      }
      const before = roomSeqs(node);
      const frame = frames[i] as FuzzFrame;
      const reply = await socket.exchange(frame);
      report.frames++;
      if (!reply) {
        if (!socket.closed) report.unanswered++;
        else checkUnchanged(node, before, `frame ${i} (closed with ${socket.closedWith})`, report);
        continue;
      }
      if (reply.type in report.answered) report.answered[reply.type as 'ack' | 'error' | 'welcome']++;
      if (reply.type === 'error') {
        report.errorCodes[reply.code] = (report.errorCodes[reply.code] ?? 0) + 1;
        report.errorSamples[reply.code] ??= `${reply.message} <- ${preview(frame)}`;
        checkUnchanged(node, before, `frame ${i} ${preview(frame)} refused ${reply.code}`, report);
      }
      if (reply.type === 'welcome') seat = { token: reply.token, room: reply.room };
      if (reply.type === 'ack' && /"type":"leave"/.test(String(frame))) seat = null;
      if (i % 5000 === 0) onProgress?.(i);
    }
  } finally {
    socket?.close();
    delay.disable();
    process.off('unhandledRejection', onUncaught);
    process.off('uncaughtException', onUncaught);
  }
  report.loopDelayMs = { p50: quantile(delay, 50), p99: quantile(delay, 99), max: Math.round(delay.max / 1e6) };
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  return report;
}

const preview = (frame: FuzzFrame) => (typeof frame === 'string' ? JSON.stringify(frame.slice(0, 80)) : `<binary ${frame.length}>`);

/**
 * Every hosted room's sequence and game state, and whether a timer of its own was due (then it
 * may move). A room's game object is replaced on every commit and never mutated, so the same
 * object means the same state.
 */
function roomSeqs(node: RunningNode): Map<string, { seq: number; game: object; due: boolean }> {
  const now = Date.now();
  return new Map(
    node.runtime.hosted().map((actor) => [
      actor.code,
      { seq: actor.seq, game: actor.game, due: actor.context.deadline !== null && actor.context.deadline.at <= now + 50 },
    ]),
  );
}

function checkUnchanged(node: RunningNode, before: ReturnType<typeof roomSeqs>, what: string, report: FuzzReport): void {
  const after = roomSeqs(node);
  for (const [code, now] of after) {
    const was = before.get(code);
    if (!was) {
      report.violations.push(`${what}: room ${code} appeared`);
      continue;
    }
    if (!was.due && (now.seq !== was.seq || now.game !== was.game)) report.violations.push(`${what}: room ${code} changed (seq ${was.seq} -> ${now.seq})`);
  }
}

/** A game in play between two humans, nothing on a timer: only frames can move it. */
async function freshGame(port: number): Promise<Seat> {
  const host = await FuzzSocket.open(port);
  const welcome = await host.exchange(JSON.stringify({ type: 'create_room', name: 'Fuzz host', options: { rounds: 1 } }));
  if (welcome?.type !== 'welcome') throw new Error(`create_room failed: ${JSON.stringify(welcome)}`);
  const guest = await FuzzSocket.open(port);
  const joined = await guest.exchange(JSON.stringify({ type: 'join_room', room: welcome.room, name: 'Fuzz guest' }));
  if (joined?.type !== 'welcome') throw new Error(`join_room failed: ${JSON.stringify(joined)}`);
  const startedReply = await host.exchange(JSON.stringify({ type: 'start_game' }));
  if (startedReply?.type !== 'ack') throw new Error(`start_game failed: ${JSON.stringify(startedReply)}`);
  // The guest stays connected (so nobody's turn waits on a disconnect grace); the fuzzer is the host.
  host.close();
  return { token: welcome.token, room: welcome.room };
}

type Reply = Record<string, any>;

function safeParse(text: string): Reply | null {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** One raw socket that sends a frame and waits for its answer (ack, error or welcome). */
class FuzzSocket {
  closed = false;
  closedWith: string | null = null;
  private waiting: ((reply: Reply | null) => void) | null = null;
  /** After a welcome to a frame with an id, its ack follows: swallow it, it answers the same frame. */
  private ackToSwallow = false;
  /** What else answers the frame in flight: `hello` is answered by a `hello`, `sync` by a `state`. */
  private alsoAnswers = new Set<string>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let reply: Reply;
      try {
        reply = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (reply.type === 'ack' && this.ackToSwallow) {
        this.ackToSwallow = false;
        return;
      }
      if (reply.type === 'ack' || reply.type === 'error' || reply.type === 'welcome' || this.alsoAnswers.has(reply.type)) this.settle(reply);
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closedWith = String(code);
      this.settle(null);
    });
    ws.on('error', () => {});
  }

  static open(port: number): Promise<FuzzSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { maxPayload: 64 * 1024 * 1024 });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FuzzSocket(ws)));
      ws.once('error', reject);
    });
  }

  exchange(frame: FuzzFrame, timeoutMs = 2000): Promise<Reply | null> {
    if (this.closed) return Promise.resolve(null);
    const parsed = typeof frame === 'string' ? safeParse(frame) : null;
    const hasId = typeof parsed?.id === 'string';
    this.alsoAnswers = new Set(parsed?.type === 'hello' ? ['hello'] : parsed?.type === 'sync' ? ['state'] : []);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(null), timeoutMs);
      this.waiting = (reply) => {
        clearTimeout(timer);
        if (reply?.type === 'welcome' && hasId) this.ackToSwallow = true;
        resolve(reply);
      };
      this.ws.send(frame, { binary: typeof frame !== 'string' }, () => {});
    });
  }

  private settle(reply: Reply | null): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(reply);
  }

  close(): void {
    this.ws.terminate();
  }
}
