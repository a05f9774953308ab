import { z } from 'zod';

export * from './option-defaults.js';
import { DEFAULT_OPTIONS, FLIP_MODES, HOUSE_RULES, type HouseRule, type Options } from './option-defaults.js';

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
