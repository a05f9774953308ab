import { randomFillSync } from 'node:crypto';
import { ENTROPY_BYTES, type Entropy } from '../game/index.js';

/**
 * Fresh entropy for each room event, from the operating system's CSPRNG. Bytes are drawn a
 * pool at a time (one getrandom call per 128 events instead of one per move), and each byte
 * of the pool is handed out once.
 */
const POOL_BYTES = ENTROPY_BYTES * 128;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

export function freshEntropy(): Entropy {
  if (offset + ENTROPY_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const entropy = pool.toString('hex', offset, offset + ENTROPY_BYTES);
  offset += ENTROPY_BYTES;
  return entropy;
}
