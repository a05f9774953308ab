import { z } from 'zod';

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

const houseRuleShape = Object.fromEntries(HOUSE_RULES.map((rule) => [rule, z.boolean()])) as Record<
  HouseRule,
  z.ZodBoolean
>;

/** A partial options object as a host sends it: every field optional, no unknown fields. */
export const partialOptionsSchema = z
  .object({
    rounds: z.number().int().min(1).max(18),
    decks: z.number().int().min(1).max(3).nullable(),
    initial_flips: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    flip_mode: z.enum(FLIP_MODES),
    allow_spectators: z.boolean(),
    ...houseRuleShape,
  })
  .partial()
  .strict();

export type PartialOptions = z.infer<typeof partialOptionsSchema>;

/** Merges validated partial options over a base; throws a ZodError on bad input. */
export function mergeOptions(base: Options, patch: unknown): Options {
  const parsed = partialOptionsSchema.parse(patch ?? {});
  return { ...base, ...parsed } as Options;
}

/** Fills in defaults for a partial options object (used by the public scoring API). */
export function withDefaults(partial: Partial<Options> | undefined): Options {
  return { ...DEFAULT_OPTIONS, ...(partial ?? {}) };
}

export function decksFor(options: Options, playerCount: number): number {
  return options.decks ?? (playerCount <= 4 ? 1 : 2);
}

/** Whether spectators may watch a game with these options (absent in older games: yes). */
export function spectatorsAllowed(options: Partial<Options>): boolean {
  return options.allow_spectators !== false;
}
