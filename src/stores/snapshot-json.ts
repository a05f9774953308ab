/**
 * JSON for a room snapshot (`{ value, context }`) after every transition, without serialising
 * again what did not change. A room's state is immutable once made (evolve copies on write:
 * see game/state.ts ownPlayer; command ids are remembered in new lists), so the parts a move
 * leaves alone keep their identity from one snapshot to the next: the options, the timing,
 * three seats of four, the piles between draws, every other player's command ids. Their JSON
 * is kept by identity (a WeakMap: it goes with the state that holds them) and reused.
 *
 * The text is exactly JSON.stringify's (same keys, same order; test/stores/snapshot-json.test.ts),
 * so a reader needs nothing new and restore is unchanged.
 */
const memo = new WeakMap<object, string>();

/** JSON of a part that is never changed in place once made, from the memo when seen before. */
function frozen(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  let text = memo.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
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
    return GAME_FROZEN.has(key) ? frozen(value) : JSON.stringify(value);
  });
}

function contextJson(context: Record<string, unknown>): string {
  return objectJson(context, (key, value) => {
    if (key === 'game' && isRecord(value)) return gameJson(value);
    if (key === 'applied' && isRecord(value)) return objectJson(value, (_, list) => idListJson(list), (id) => JSON.stringify(id));
    if (key === 'timing') return frozen(value);
    return JSON.stringify(value);
  });
}

/** JSON.stringify(snapshot), reusing the text of the parts of a room's state a move left alone. */
export function snapshotJson(snapshot: unknown): string {
  if (!isRecord(snapshot) || !isRecord(snapshot.context)) return JSON.stringify(snapshot);
  return objectJson(snapshot, (key, value) => (key === 'context' && isRecord(value) ? contextJson(value) : JSON.stringify(value)));
}
