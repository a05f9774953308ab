/** The eight CPU personalities of RULES.md. */
export interface CpuProfile {
  name: string;
  style: string;
  /** Swap a card into an unknown (face-down) slot only when it is worth less than this. */
  threshold: number;
  /** 0 to 1: willingness to keep a card that could still be paired. */
  pair_hope: number;
  /** 0 to 1: eagerness to go out early. */
  aggression: number;
  /** 0 to 1: how often an acceptable but not best move is picked (only Diego is chaotic). */
  chaos: number;
}

export const CPU_PROFILES: readonly CpuProfile[] = [
  { name: 'Sofia', style: 'calculated, patient', threshold: 4, pair_hope: 0.2, aggression: 0.2, chaos: 0 },
  { name: 'Maya', style: 'aggressive closer', threshold: 6, pair_hope: 0.4, aggression: 0.85, chaos: 0 },
  { name: 'Priya', style: 'pair hunter', threshold: 7, pair_hope: 0.8, aggression: 0.5, chaos: 0 },
  { name: 'Marcus', style: 'steady', threshold: 5, pair_hope: 0.35, aggression: 0.4, chaos: 0 },
  { name: 'Kenji', style: 'risk taker', threshold: 8, pair_hope: 0.7, aggression: 0.75, chaos: 0.05 },
  { name: 'Diego', style: 'chaotic gambler', threshold: 6, pair_hope: 0.5, aggression: 0.6, chaos: 0.3 },
  { name: 'River', style: 'adaptive', threshold: 5, pair_hope: 0.45, aggression: 0.55, chaos: 0 },
  { name: 'Sage', style: 'sneaky finisher', threshold: 5, pair_hope: 0.3, aggression: 0.9, chaos: 0 },
];

export const CPU_NAMES = CPU_PROFILES.map((profile) => profile.name);

export function profileByName(name: string | null | undefined): CpuProfile | undefined {
  if (!name) return undefined;
  const wanted = name.toLowerCase();
  return CPU_PROFILES.find((profile) => profile.name.toLowerCase() === wanted);
}
