/**
 * RFC 6902 operations that turn one JSON document into another, for documents like our views:
 * small, with a fixed shape. Objects with the same keys and arrays of the same length are
 * compared member by member; a "leaf" (an object or array holding only primitives: a card, the
 * options) that differs, or anything whose shape changed, is replaced whole: one short
 * operation, not one per field. fast-json-patch's `compare` gives equivalent patches but costs
 * several times more per view (see README, "Cost per move"), and splits a turned card in three.
 *
 * Only `replace` operations come out (so a patch applies to exactly the document it was made
 * from), and only values of the target document are carried.
 */
export type ReplaceOp = { op: 'replace'; path: string; value: unknown };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const escape = (key: string) => (/[~/]/.test(key) ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key);

function isLeaf(value: object): boolean {
  for (const member of Object.values(value)) if (member !== null && typeof member === 'object') return false;
  return true;
}

/** Whether two leaves (objects or arrays of primitives) hold the same members in the same order. */
function sameLeaf(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== other[i] || a[keys[i]!] !== b[keys[i]!]) return false;
  return true;
}

function sameKeys(a: object, b: object): boolean {
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== other[i]) return false;
  return true;
}

function diffInto(a: Json, b: Json, path: string, ops: ReplaceOp[]): void {
  if (a === b) return;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) {
    ops.push({ op: 'replace', path, value: b });
    return;
  }
  if (isLeaf(a) && isLeaf(b)) {
    if (!sameLeaf(a as Record<string, unknown>, b as Record<string, unknown>)) ops.push({ op: 'replace', path, value: b });
    return;
  }
  if (Array.isArray(a) ? a.length !== (b as Json[]).length : !sameKeys(a, b)) {
    ops.push({ op: 'replace', path, value: b });
    return;
  }
  for (const key of Object.keys(a)) diffInto((a as Record<string, Json>)[key]!, (b as Record<string, Json>)[key]!, `${path}/${escape(key)}`, ops);
}

/** The operations that turn `a` into `b` (both plain JSON data; the root is never replaced). */
export function diff(a: object, b: object): ReplaceOp[] {
  const ops: ReplaceOp[] = [];
  if (!sameKeys(a, b) || Array.isArray(a) !== Array.isArray(b)) throw new Error('diff: the documents differ in shape at the root');
  for (const key of Object.keys(a)) diffInto((a as Record<string, Json>)[key]!, (b as Record<string, Json>)[key]!, `/${escape(key)}`, ops);
  return ops;
}
