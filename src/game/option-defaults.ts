/**
 * The game's options and their defaults, without their schema (options.ts): what the engine's
 * fold needs, so that the browser, which folds replays with it, does not load zod (its
 * feature check evaluates code, which the page's Content-Security-Policy refuses).
 */
export const FLIP_MODES = ['never', 'always', 'endgame'] as const;
export type FlipMode = (typeof FLIP_MODES)[number];

export const HOUSE_RULES = [
  'use_jokers',
  'lucky_swing',
  'super_kings',
  'ten_penny',
  'one_eyed_jacks',
  'knock_penalty',
  'knock_bonus',
  'underdog_bonus',
  'tied_shame',
  'blackjack',
  'wolfpack',
  'four_of_a_kind',
  'eagle_eye',
  'negative_pairs_keep_value',
  'flip_as_action',
  'knock_early',
] as const;
export type HouseRule = (typeof HOUSE_RULES)[number];

export type Options = {
  rounds: number;
  /** 1 to 3, or null for "by player count" (1 for up to 4 players, 2 for 5 or 6). */
  decks: number | null;
  initial_flips: 0 | 1 | 2;
  flip_mode: FlipMode;
  /**
   * Whether anyone with the room code may watch without a seat (PROTOCOL.md "Spectators"). A
   * room option, not a rule: options stored before it existed lack it, which reads as on.
   */
  allow_spectators: boolean;
} & Record<HouseRule, boolean>;

export const DEFAULT_OPTIONS: Options = {
  rounds: 9,
  decks: null,
  initial_flips: 2,
  flip_mode: 'never',
  allow_spectators: true,
  ...(Object.fromEntries(HOUSE_RULES.map((rule) => [rule, false])) as Record<HouseRule, boolean>),
};

/** Whether spectators may watch a game with these options (absent in older games: yes). */
export function spectatorsAllowed(options: Partial<Options>): boolean {
  return options.allow_spectators !== false;
}
