/**
 * RFC 6902 operations that turn one JSON document into another, for documents like our views:
 * small, with a fixed shape. Objects with the same keys and arrays of the same length are
 * compared member by member; a "leaf" (an object or array holding only primitives: a card, the
 * options) that differs, or anything whose shape changed, is set whole: one short operation,
 * not one per field. fast-json-patch's `compare` gives equivalent patches but costs several
 * times more per view (see README, "Cost per move"), and splits a turned card in three.
 *
 * A member of an object is set with `add`, an element of an array with `replace`: RFC 6902
 * (4.1) has `add` on an existing member replace its value, and it is four bytes shorter, which
 * is a tenth of a short operation and most patches are a few of those (`add` on an array index
 * would insert, so elements keep `replace`). Only values of the target document are carried.
 */
export type SetOp = { op: 'add' | 'replace'; path: string; value: unknown };

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

function diffInto(a: Json, b: Json, path: string, op: SetOp['op'], ops: SetOp[]): void {
  if (a === b) return;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) {
    ops.push({ op, path, value: b });
    return;
  }
  if (isLeaf(a) && isLeaf(b)) {
    if (!sameLeaf(a as Record<string, unknown>, b as Record<string, unknown>)) ops.push({ op, path, value: b });
    return;
  }
  if (Array.isArray(a) ? a.length !== (b as Json[]).length : !sameKeys(a, b)) {
    ops.push({ op, path, value: b });
    return;
  }
  const member = Array.isArray(a) ? 'replace' : 'add';
  for (const key of Object.keys(a)) diffInto((a as Record<string, Json>)[key]!, (b as Record<string, Json>)[key]!, `${path}/${escape(key)}`, member, ops);
}

/** The operations that turn `a` into `b` (both plain JSON data; the root is never replaced). */
export function diff(a: object, b: object): SetOp[] {
  const ops: SetOp[] = [];
  if (!sameKeys(a, b) || Array.isArray(a) !== Array.isArray(b)) throw new Error('diff: the documents differ in shape at the root');
  const member = Array.isArray(a) ? 'replace' : 'add';
  for (const key of Object.keys(a)) diffInto((a as Record<string, Json>)[key]!, (b as Record<string, Json>)[key]!, `/${escape(key)}`, member, ops);
  return ops;
}
