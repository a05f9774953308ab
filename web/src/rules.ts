/** The house rules as players read them: a short label and one line saying what it does. */
export interface RuleText {
  key: string;
  label: string;
  explain: string;
  /** Only meaningful with Jokers in the deck. */
  needsJokers?: boolean;
}

export const HOUSE_RULES: RuleText[] = [
  { key: 'use_jokers', label: 'Jokers', explain: 'Two Jokers per deck, each worth -2.' },
  { key: 'lucky_swing', label: 'Lucky swing', explain: 'A single Joker in the whole shoe, worth -5.', needsJokers: true },
  { key: 'eagle_eye', label: 'Eagle eye', explain: 'A pair of Jokers scores -4; a lone Joker scores +2.', needsJokers: true },
  { key: 'super_kings', label: 'Super kings', explain: 'Kings are worth -2 instead of 0.' },
  { key: 'ten_penny', label: 'Ten penny', explain: 'Tens are worth 1 instead of 10.' },
  { key: 'one_eyed_jacks', label: 'One-eyed jacks', explain: 'The Jack of hearts and the Jack of spades are worth 0.' },
  { key: 'negative_pairs_keep_value', label: 'Negative pairs keep value', explain: 'A pair of negative cards (2s, Jokers) keeps its negative points instead of scoring 0.' },
  { key: 'wolfpack', label: 'Wolfpack', explain: 'Two pairs of Jacks in one hand: -20.' },
  { key: 'four_of_a_kind', label: 'Four of a kind', explain: 'Two pairs of the same rank in one hand: -20.' },
  { key: 'blackjack', label: 'Blackjack', explain: 'A hand that scores exactly 21 scores 0 instead.' },
  { key: 'knock_penalty', label: 'Knock penalty', explain: 'Whoever goes out gets +10 if anyone scored lower.' },
  { key: 'knock_bonus', label: 'Knock bonus', explain: 'Whoever goes out gets -5.' },
  { key: 'underdog_bonus', label: 'Underdog bonus', explain: 'The lowest score of the hole gets -3.' },
  { key: 'tied_shame', label: 'Tied shame', explain: 'Everyone whose hole score ties another player’s gets +5.' },
  { key: 'flip_as_action', label: 'Flip as a move', explain: 'On your turn you may flip a face-down card instead of drawing.' },
  { key: 'knock_early', label: 'Knock early', explain: 'With one or two cards face down, you may flip them all and go out.' },
];

export const FLIP_MODE_TEXT: Record<string, string> = {
  never: 'Discarding a drawn card ends your turn.',
  always: 'After discarding a drawn card you must flip one of your face-down cards.',
  endgame: 'After someone goes out, discarding lets you flip a face-down card (or skip).',
};

/** The lines of "How to play" for the options in play. */
export function rulesInPlay(options: Record<string, any>): string[] {
  const lines = HOUSE_RULES.filter((rule) => options[rule.key] && (!rule.needsJokers || options.use_jokers)).map(
    (rule) => `${rule.label}: ${rule.explain}`,
  );
  if (options.flip_mode && options.flip_mode !== 'never') lines.unshift(`Flip after discard (${options.flip_mode}): ${FLIP_MODE_TEXT[options.flip_mode]}`);
  return lines;
}

/** Card values under the options in play, as one short line each. */
export function cardValueLines(options: Record<string, any>): string[] {
  const lines = [
    'A = 1 · 2 = -2 · 3 to 9 = face value',
    `10 = ${options.ten_penny ? 1 : 10} · J = ${options.one_eyed_jacks ? '10 (J♥ J♠ = 0)' : 10} · Q = 10 · K = ${options.super_kings ? -2 : 0}`,
  ];
  if (options.use_jokers) lines.push(`Joker = ${options.eagle_eye ? '+2 alone, -4 as a pair' : options.lucky_swing ? -5 : -2}`);
  lines.push('Two cards of the same rank in a column score 0' + (options.negative_pairs_keep_value ? ' (negative pairs keep their value)' : '') + '.');
  return lines;
}
