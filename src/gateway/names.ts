/**
 * Player names as other players see them: one canonical form per visible name, nothing
 * invisible, nothing that draws over its neighbours.
 */

export const NAME_MAX = 24;
const MARKS_IN_A_ROW = 2;
const MARKS_TOTAL = 8;
/** The longest raw string worth normalising: 24 characters, each with its marks, and spaces around. */
const RAW_MAX = NAME_MAX * (1 + MARKS_IN_A_ROW) * 2 + 16;

/**
 * What a name may be made of: letters, marks, numbers, punctuation, symbols and the plain
 * space. This leaves out control (Cc) and format (Cf) characters (bidi overrides, zero-width
 * joiners, tags), unassigned (Cn), private-use (Co) and surrogate (Cs) code points, line and
 * paragraph separators, and every space but U+0020.
 */
const ALLOWED = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;
/**
 * Characters that render as nothing although their category is a letter or a mark: Hangul
 * fillers (U+115F, U+1160, U+3164, U+FFA0), variation selectors, the combining grapheme
 * joiner, Khmer and Mongolian invisibles, plus U+2800 (braille blank, a symbol that draws
 * nothing) and the musical null notehead (U+1D159), a symbol drawn blank. Default_Ignorable_Code_Point
 * is Unicode's list of "render as nothing".
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/u;
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;
const MARK = /\p{M}/u;

export type NameCheck = { ok: true; name: string } | { ok: false; message: string };

/**
 * The canonical form of a player's name (NFC, trimmed), or why it is refused. Used by every
 * message that names a player, so that two names that look alike are also equal as strings.
 */
export function normalizeName(raw: string): NameCheck {
  // Length first, on the raw string: normalising thousands of combining marks takes time that
  // grows with the square of their number (a 16 KiB name stalled the node ~100 ms).
  if (raw.length > RAW_MAX) return refuse(`name must have 1 to ${NAME_MAX} characters`);
  const name = raw.normalize('NFC').trim();
  const chars = [...name];
  if (chars.length < 1 || chars.length > NAME_MAX) return refuse(`name must have 1 to ${NAME_MAX} characters`);
  const invisible = chars.find((c) => INVISIBLE.test(c) || !ALLOWED.test(c));
  if (invisible !== undefined) return refuse(`name must not contain invisible or control characters (${codePoint(invisible)})`);
  if (!chars.some((c) => VISIBLE.test(c) && !INVISIBLE.test(c))) return refuse('name needs at least one visible letter, number or symbol');
  if (MARK.test(chars[0]!)) return refuse('name must not start with a combining mark');
  let run = 0;
  let total = 0;
  // Marks are counted decomposed: a precomposed letter carries its marks (U+1F8F has three).
  for (const c of name.normalize('NFD')) {
    if (!MARK.test(c)) {
      run = 0;
      continue;
    }
    run += 1;
    total += 1;
    // Stacked marks draw over the lines above and below (and over other players' names).
    if (run > MARKS_IN_A_ROW) return refuse(`name must not stack more than ${MARKS_IN_A_ROW} combining marks on one character`);
  }
  if (total > MARKS_TOTAL) return refuse(`name must not have more than ${MARKS_TOTAL} combining marks`);
  return { ok: true, name };
}

function refuse(message: string): NameCheck {
  return { ok: false, message };
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
