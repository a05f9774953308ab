import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A seat's resume token: `<room>.<player id>.<secret>`. Clients treat it as opaque; the room
 * keeps only its sha256, so neither the event log nor the cache can hand out a usable token.
 */
export function newToken(room: string, playerId: string): string {
  return `${room}.${playerId}.${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function parseToken(token: string): { room: string; playerId: string } | null {
  const match = /^([A-Z]{4})\.([\w-]{1,40})\.([\w-]{20,64})$/.exec(token);
  return match ? { room: match[1] as string, playerId: match[2] as string } : null;
}

export function tokenMatches(token: string, hash: string | null): boolean {
  return hashMatches(hashToken(token), hash);
}

/**
 * Compares a token's hash with a seat's, in constant time. A resume forwarded to the room's
 * node carries the hash, never the token: what crosses Redis cannot be replayed as a token.
 */
export function hashMatches(hash: string, stored: string | null): boolean {
  if (!stored || !/^[0-9a-f]{64}$/.test(hash)) return false;
  const a = Buffer.from(hash, 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newPlayerId(prefix = 'p'): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
