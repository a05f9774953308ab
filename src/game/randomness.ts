/**
 * Randomness for the game: every shuffle and every random choice (a CPU's move, a random CPU
 * profile) is drawn from an `Entropy`: 256 bits that the runtime takes from the operating
 * system's CSPRNG for each command and timer, and passes in with it. The rules stay pure (the
 * same entropy gives the same deal, which is what replay and the tests need), and no deal can be
 * derived from fewer than 256 bits: a player who sees some cards cannot search the seed space.
 *
 * The stream is ChaCha20's keystream under that key (node:crypto, a deterministic function, no
 * IO), with one nonce per purpose so that a CPU's visible choices say nothing about a shuffle
 * drawn from the same entropy. What a shuffle produced travels in the event it produced (the
 * dealt shoe, the reshuffled deck), so replay never depends on this algorithm.
 */
import { createCipheriv } from 'node:crypto';

/** 32 bytes from a CSPRNG, as 64 lower-case hex digits (JSON-friendly; never shown to players). */
export type Entropy = string;

export const ENTROPY_BYTES = 32;

const ENTROPY_PATTERN = /^[0-9a-f]{64}$/;

export function isEntropy(value: unknown): value is Entropy {
  return typeof value === 'string' && ENTROPY_PATTERN.test(value);
}

/** What a stream is for: each purpose gets its own nonce, hence an independent stream. */
export type RandomPurpose = 'deal' | 'reshuffle' | 'cpu_move' | 'cpu_profile' | 'replay_id';

const NONCE: Record<RandomPurpose, number> = { deal: 1, reshuffle: 2, cpu_move: 3, cpu_profile: 4, replay_id: 5 };

export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 53 random bits. */
  next(): number;
  /** A uniform integer in [0, bound), without modulo bias. */
  int(bound: number): number;
}

const TWO_32 = 4294967296;
const BLOCK = Buffer.alloc(256);

/** A deterministic stream of uniform numbers keyed by 256 bits of entropy. */
export function randomStream(entropy: Entropy, purpose: RandomPurpose): Rng {
  if (!isEntropy(entropy)) throw new RangeError(`entropy must be ${ENTROPY_BYTES} bytes (${ENTROPY_BYTES * 2} hex digits) from a CSPRNG`);
  const iv = Buffer.alloc(16); // ChaCha20 in OpenSSL: 4-byte block counter, then a 12-byte nonce
  iv.writeUInt32LE(NONCE[purpose], 4);
  const cipher = createCipheriv('chacha20', Buffer.from(entropy, 'hex'), iv);
  let block = Buffer.alloc(0);
  let offset = 0;
  const nextUint32 = (): number => {
    if (offset + 4 > block.length) {
      block = cipher.update(BLOCK);
      offset = 0;
    }
    const value = block.readUInt32LE(offset);
    offset += 4;
    return value;
  };
  return {
    nextUint32,
    next: () => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992,
    int: (bound: number) => {
      if (!Number.isInteger(bound) || bound < 1 || bound > TWO_32) throw new RangeError(`bound must be an integer from 1 to 2^32, not ${bound}`);
      // Rejection sampling: values at or above the largest multiple of bound would bias low numbers.
      const limit = TWO_32 - (TWO_32 % bound);
      let value = nextUint32();
      while (value >= limit) value = nextUint32();
      return value % bound;
    },
  };
}

/** Fisher-Yates shuffle driven by the entropy's stream for `purpose`; returns a new array. */
export function shuffled<T>(items: readonly T[], entropy: Entropy, purpose: RandomPurpose): T[] {
  const out = items.slice();
  const rng = randomStream(entropy, purpose);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

/** 128 bits from the entropy's own stream, as 32 hex digits (a replay's unguessable id). */
export function randomId128(entropy: Entropy, purpose: RandomPurpose): string {
  const rng = randomStream(entropy, purpose);
  let id = '';
  for (let i = 0; i < 4; i++) id += rng.nextUint32().toString(16).padStart(8, '0');
  return id;
}
