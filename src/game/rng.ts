/**
 * Seeded randomness for the engine and the CPU players.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "Small Fast Counting" generator, as in
 * PractRand), seeded through splitmix32 so that nearby seeds give unrelated streams. It uses
 * only 32-bit integer arithmetic (`| 0`, `>>>`, `Math.imul`), so the same seed yields the same
 * numbers on every machine and every Node version; nothing here touches `Math.random`.
 */

/** One step of splitmix32: a good 32-bit mixer, used to derive seeds from seeds. */
export function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Derives a child seed from a seed and any number of integers (round numbers, counters). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let acc = mix32(seed >>> 0);
  for (const part of parts) acc = mix32((acc ^ mix32(part >>> 0)) >>> 0);
  return acc;
}

export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform integer in [0, bound). */
  int(bound: number): number;
}

export function createRng(seed: number): Rng {
  let a = mix32(seed);
  let b = mix32(a);
  let c = mix32(b);
  let d = 1;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm up: the first outputs of a counting generator are weakly mixed.
  for (let i = 0; i < 12; i++) nextUint32();
  return {
    nextUint32,
    next: () => nextUint32() / 4294967296,
    int: (bound: number) => Math.floor((nextUint32() / 4294967296) * bound),
  };
}

/** Fisher-Yates shuffle driven by a seed; returns a new array. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const rng = createRng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
