/**
 * JSON for a room snapshot (`{ value, context }`) after every transition, without serialising
 * again what did not change. A room's state is immutable once made (evolve copies on write:
 * see game/state.ts ownPlayer; command ids are remembered in new lists), so the parts a move
 * leaves alone keep their identity from one snapshot to the next: the options, the timing,
 * three seats of four, the piles between draws, every other player's command ids. Their JSON
 * is kept by identity (a WeakMap: it goes with the state that holds them) and reused.
 *
 * Cards are written compactly (see cardText): a snapshot goes to Redis after every transition,
 * and a card's object (`{"rank":"10","suit":"hearts","deck":0}`, 38 bytes) made up two thirds of
 * its bytes; as "10h0" a 4-player snapshot is about half the size. Otherwise the text is
 * JSON.stringify's (same keys, same order; test/stores/snapshot-json.test.ts); parseSnapshotJson
 * reads it back, and reads the older form (cards as objects) too.
 */
const memo = new WeakMap<object, string>();

const SUIT_LETTERS: Record<string, string> = { hearts: 'h', diamonds: 'd', clubs: 'c', spades: 's' };
const SUITS_BY_LETTER: Record<string, string> = { h: 'hearts', d: 'diamonds', c: 'clubs', s: 'spades' };
const COMPACT_CARD = /^(A|[2-9]|10|J|Q|K|JOKER)([hdcs])(\d+)$/;

/** A card (game/cards.ts: rank, suit, deck and nothing else), as written compactly. */
function isCard(value: unknown): value is { rank: string; suit: string; deck: number } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const card = value as Record<string, unknown>;
  return typeof card.rank === 'string' && typeof card.suit === 'string' && SUIT_LETTERS[card.suit] !== undefined && Number.isInteger(card.deck) && (card.deck as number) >= 0 && Object.keys(card).length === 3;
}

/** A card as rank, suit letter and deck: the 10 of hearts from the first deck is "10h0". */
export function cardText(card: { rank: string; suit: string; deck: number }): string {
  return `${card.rank}${SUIT_LETTERS[card.suit]}${card.deck}`;
}

/** The card `text` (cardText) names, or undefined if it names none. */
export function cardFromText(text: string): { rank: string; suit: string; deck: number } | undefined {
  const m = COMPACT_CARD.exec(text);
  return m ? { rank: m[1]!, suit: SUITS_BY_LETTER[m[2]!]!, deck: Number(m[3]) } : undefined;
}

const compactCards = (_key: string, value: unknown) => (isCard(value) ? cardText(value) : value);

/** JSON.stringify, cards compact. */
const stringify = (value: unknown): string | undefined => JSON.stringify(value, compactCards);

/**
 * JSON.parse of a snapshot, cards restored: where the state holds cards (a hand's `card`, the
 * drawn `card`, the `deck` and `discard` piles), a string is the compact form. Only there: a
 * player's name that happens to read "Kh0" stays a name.
 */
export function parseSnapshotJson(text: string): unknown {
  return JSON.parse(text, function (this: unknown, key: string, value: unknown) {
    if (key === 'card' && typeof value === 'string') return cardFromText(value) ?? value;
    if ((key === 'deck' || key === 'discard') && Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? (cardFromText(v) ?? v) : v));
    return value;
  });
}

/** JSON of a part that is never changed in place once made, from the memo when seen before. */
function frozen(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  let text = memo.get(value);
  if (text === undefined) {
    text = stringify(value) as string;
    memo.set(value, text);
  }
  return text;
}

/**
 * Field names as JSON strings, quoted once: a snapshot has some thirty, the same in every one.
 * Bounded, in case a state ever carries keys of its own (player ids in `applied` are quoted each
 * time, not kept: there is no end to them).
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 1_000;

function quoted(key: string): string {
  let text = quotedKeys.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, text);
  }
  return text;
}

/**
 * A player's remembered command ids change by one entry a move (rememberCommand: a new list, the
 * new id appended, the oldest dropped past the limit, every other entry the same object): the
 * new list's text is the last one's with that done to it, not the whole list (~30 entries)
 * serialised again. The last list is found by the new one's last-but-one entry (its last), and
 * checked entry by entry (identity); anything else is serialised whole. An entry is dropped once
 * its list has a successor, so each lineage keeps one (its latest list, alive anyway).
 */
const listByLast = new WeakMap<object, { list: readonly unknown[]; text: string }>();

const isObject = (value: unknown): value is object => value !== null && typeof value === 'object';

function idListJson(list: unknown): string | undefined {
  if (!Array.isArray(list) || list.length === 0 || !isObject(list[list.length - 1])) return frozen(list);
  let text = memo.get(list);
  if (text !== undefined) return text;
  text = grownJson(list) ?? JSON.stringify(list);
  memo.set(list, text);
  listByLast.set(list[list.length - 1] as object, { list, text });
  return text;
}

/** The JSON of `list` from its predecessor's (one entry appended, none or the first dropped), or undefined. */
function grownJson(list: unknown[]): string | undefined {
  const kept = list.length - 1;
  const link = list[kept - 1];
  if (kept < 1 || !isObject(link)) return undefined;
  const before = listByLast.get(link);
  if (!before) return undefined;
  const prior = before.list;
  const dropped = prior.length - kept;
  if (dropped !== 0 && (dropped !== 1 || !isObject(prior[0]))) return undefined;
  for (let i = 0; i < kept; i++) if (list[i] !== prior[i + dropped]) return undefined;
  listByLast.delete(link);
  // Past '[' and, when the first entry went, past it and its comma; up to the closing ']'.
  const from = 1 + (dropped ? (JSON.stringify(prior[0]) as string).length + 1 : 0);
  // Joined (a flat copy), not concatenated: a rope of slices would keep every earlier text alive.
  return ['[', before.text.slice(from, -1), ',', JSON.stringify(list[kept]), ']'].join('');
}

/** An object's JSON with each property's text from `part` (undefined leaves it out, as JSON.stringify does). */
function objectJson(object: Record<string, unknown>, part: (key: string, value: unknown) => string | undefined, keyText: (key: string) => string = quoted): string {
  let out = '{';
  for (const key of Object.keys(object)) {
    const text = part(key, object[key]);
    if (text === undefined) continue;
    out += (out.length > 1 ? ',' : '') + keyText(key) + ':' + text;
  }
  return out + '}';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const GAME_FROZEN = new Set(['options', 'deck', 'discard', 'drawn', 'winner_ids']);

function gameJson(game: Record<string, unknown>): string {
  return objectJson(game, (key, value) => {
    if (key === 'players' && Array.isArray(value)) return '[' + value.map((player) => frozen(player) ?? 'null').join(',') + ']';
    return GAME_FROZEN.has(key) ? frozen(value) : stringify(value);
  });
}

function contextJson(context: Record<string, unknown>): string {
  return objectJson(context, (key, value) => {
    if (key === 'game' && isRecord(value)) return gameJson(value);
    if (key === 'applied' && isRecord(value)) return objectJson(value, (_, list) => idListJson(list), (id) => JSON.stringify(id));
    if (key === 'timing') return frozen(value);
    return stringify(value);
  });
}

/** JSON.stringify(snapshot) with cards compact, reusing the text of the parts of a room's state a move left alone. */
export function snapshotJson(snapshot: unknown): string {
  if (!isRecord(snapshot) || !isRecord(snapshot.context)) return JSON.stringify(snapshot);
  return objectJson(snapshot, (key, value) => (key === 'context' && isRecord(value) ? contextJson(value) : JSON.stringify(value)));
}
