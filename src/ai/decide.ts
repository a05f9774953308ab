import { buildShoe, type Card } from '../game/cards.js';
import type { Options } from '../game/options.js';
import type { Rng } from '../game/randomness.js';
import { cardValue, columnScore, partnerOf } from '../game/scoring.js';
import type { CardView, GameView, PlayerView } from '../game/view.js';
import type { GameCommand } from '../game/types.js';
import type { CpuProfile } from './profiles.js';

/** A move as a seat would send it (the wire command without id). */
export type CpuMove =
  | { type: 'flip_initial'; positions: number[] }
  | { type: 'draw'; source: 'deck' | 'discard' }
  | { type: 'swap'; position: number }
  | { type: 'discard' }
  | { type: 'flip'; position: number }
  | { type: 'skip_flip' }
  | { type: 'flip_action'; position: number }
  | { type: 'knock_early' };

/** Turns a seat's move into an engine command. */
export function moveToCommand(move: CpuMove, by: string): GameCommand {
  return { ...move, by } as GameCommand;
}

type KnownCard = Pick<Card, 'rank' | 'suit'>;

interface Placement {
  position: number;
  /** Estimated change of the hand's points (negative is better). */
  delta: number;
  faceDown: boolean;
  makesPair: boolean;
}

/**
 * Chooses a CPU's move from the seat's view alone (it never sees a face-down card or the
 * deck), the profile and a seed. Returns null when the seat has nothing to do.
 *
 * "Never blunder" (RULES.md) is enforced by filtering candidate moves, not by luck: a Joker
 * or a 2 is never discarded; a 10, J or Q is taken from the discard pile only to pair it;
 * negative cards (and Jokers) are never paired unless `negative_pairs_keep_value`; a face-up
 * card is only replaced by one that makes its column score better.
 */
export function chooseCpuMove(view: GameView, profile: CpuProfile, rng: Rng): CpuMove | null {
  const me = view.players.find((player) => player.id === view.you);
  if (!me || view.must === null) return null;
  const ctx = new Context(view, me, profile, rng);
  switch (view.must) {
    case 'flip_initial':
      return ctx.initialFlip();
    case 'draw':
      return ctx.drawOrAct();
    case 'place':
      return ctx.placeDrawn(true);
    case 'swap':
      return ctx.placeDrawn(false);
    case 'flip':
      return { type: 'flip', position: ctx.flipChoice() };
    case 'flip_or_skip':
      return ctx.flipOrSkip();
  }
}

class Context {
  private readonly options: Options;
  private readonly unknownValue: number;
  private readonly threshold: number;

  constructor(
    private readonly view: GameView,
    private readonly me: PlayerView,
    private readonly profile: CpuProfile,
    private readonly rng: Rng,
  ) {
    this.options = view.options;
    this.unknownValue = expectedUnknownValue(view.options);
    // River adapts: plays looser when behind on totals.
    const behind = view.players.some((p) => p.id !== me.id && p.total_score < me.total_score);
    this.threshold = profile.threshold + (profile.name === 'River' && behind ? 1 : 0);
  }

  private get hand(): CardView[] {
    return this.me.cards;
  }

  private faceDownPositions(): number[] {
    return this.hand.flatMap((card, i) => (card.face_up ? [] : [i]));
  }

  private known(position: number): KnownCard | null {
    const card = this.hand[position];
    return card && card.face_up ? { rank: card.rank, suit: card.suit } : null;
  }

  private value(card: KnownCard): number {
    return cardValue(card, this.options);
  }

  /** A negative card the CPU never pairs (Jokers included, whatever their value). */
  private neverPair(card: KnownCard): boolean {
    if (this.options.negative_pairs_keep_value) return false;
    return card.rank === 'JOKER' || card.rank === '2' || this.value(card) < 0;
  }

  private isFinalTurn(): boolean {
    return this.view.finisher_id !== null;
  }

  /**
   * A round that drags on (every seat waiting for a better card) must still end: after a dozen
   * turns a seat, any CPU goes out as soon as it can and fills its unknown slots with any card.
   */
  private get urgent(): boolean {
    return this.view.turn >= 12 * this.view.players.length;
  }

  initialFlip(): CpuMove {
    const positions = [0, 1, 2, 3, 4, 5];
    const chosen: number[] = [];
    while (chosen.length < this.options.initial_flips) {
      const pick = positions.splice(this.rng.int(positions.length), 1)[0] as number;
      chosen.push(pick);
    }
    return { type: 'flip_initial', positions: chosen.sort((a, b) => a - b) };
  }

  /** Estimated points of my hand, unknown cards at their expected value. */
  private estimate(hand: ReadonlyArray<KnownCard | null> = this.hand.map((_, i) => this.known(i))): number {
    let total = 0;
    for (const [a, b] of [[0, 3], [1, 4], [2, 5]] as const) {
      const top = hand[a] ?? null;
      const bottom = hand[b] ?? null;
      if (top && bottom) total += columnScore(top, bottom, this.options);
      else total += (top ? this.value(top) : this.unknownValue) + (bottom ? this.value(bottom) : this.unknownValue);
    }
    return total;
  }

  /** The lowest estimated hand among the others (visible cards, unknowns at expectation). */
  private bestOpponentEstimate(): number {
    const others = this.view.players.filter((p) => p.id !== this.me.id);
    return Math.min(
      ...others.map((p) => {
        const hand = p.cards.map((c) => (c.face_up ? { rank: c.rank, suit: c.suit } : null));
        return this.estimateOther(hand);
      }),
    );
  }

  private estimateOther(hand: ReadonlyArray<KnownCard | null>): number {
    return this.estimate(hand);
  }

  /** Whether going out now (all cards up) looks good enough for this personality. */
  private willingToGoOut(handAfter: ReadonlyArray<KnownCard | null>): boolean {
    if (this.isFinalTurn() || this.urgent) return true;
    const mine = this.estimate(handAfter);
    const theirs = this.bestOpponentEstimate();
    if (mine <= theirs - 2) return true;
    if (mine <= theirs + 3 && this.rng.next() < this.profile.aggression) return true;
    return mine <= 2 && this.rng.next() < 0.5 + this.profile.aggression / 2;
  }

  private placements(card: KnownCard): Placement[] {
    const out: Placement[] = [];
    for (let position = 0; position < 6; position++) {
      const current = this.known(position);
      const partner = this.known(partnerOf(position));
      const makesPair = partner !== null && partner.rank === card.rank;
      if (makesPair && this.neverPair(card)) continue;
      let before: number;
      let after: number;
      if (partner) {
        before = current ? columnScore(current, partner, this.options) : this.unknownValue + this.value(partner);
        after = columnScore(card, partner, this.options);
      } else {
        before = current ? this.value(current) : this.unknownValue;
        after = this.value(card);
      }
      const delta = after - before;
      // A face-up card is only ever replaced by something that makes its column better.
      if (current && delta >= 0) continue;
      out.push({ position, delta, faceDown: current === null, makesPair });
    }
    return out.sort((a, b) => a.delta - b.delta || a.position - b.position);
  }

  private handWith(position: number, card: KnownCard): Array<KnownCard | null> {
    return this.hand.map((_, i) => (i === position ? card : this.known(i)));
  }

  private goesOut(placement: Placement): boolean {
    return placement.faceDown && this.faceDownPositions().length === 1;
  }

  /** Placements worth making with this card, best first. */
  private worthwhile(card: KnownCard, mustPlace: boolean): Placement[] {
    const mustKeep = card.rank === 'JOKER' || card.rank === '2';
    const candidates = this.placements(card).filter((p) => {
      if (p.makesPair) return true;
      if (!p.faceDown) return true;
      // Into an unknown slot: only cards under the personality's threshold.
      return mustKeep || mustPlace || this.urgent || this.value(card) < this.threshold;
    });
    return candidates.filter((p) => !this.goesOut(p) || mustKeep || mustPlace || this.willingToGoOut(this.handWith(p.position, card)));
  }

  private pick(candidates: Placement[]): Placement | undefined {
    if (candidates.length > 1 && this.rng.next() < this.profile.chaos) return candidates[this.rng.int(candidates.length)];
    return candidates[0];
  }

  drawOrAct(): CpuMove {
    const down = this.faceDownPositions();
    if (this.options.knock_early && !this.isFinalTurn() && down.length >= 1 && down.length <= 2) {
      if (this.estimate() <= this.bestOpponentEstimate() - 3 && this.rng.next() < this.profile.aggression) {
        return { type: 'knock_early' };
      }
    }
    const top = this.view.discard_top;
    if (top && this.wantsDiscard(top)) return { type: 'draw', source: 'discard' };
    if (this.options.flip_as_action && down.length > 1 && this.rng.next() < 0.1 * (1 - this.profile.pair_hope)) {
      return { type: 'flip_action', position: down[this.rng.int(down.length)] as number };
    }
    if (this.view.deck_count === 0 && top) {
      // Only the discard pile is left to draw from; take it (it will be placed sensibly).
      return { type: 'draw', source: 'discard' };
    }
    return { type: 'draw', source: 'deck' };
  }

  private wantsDiscard(top: KnownCard): boolean {
    const candidates = this.worthwhile(top, false);
    const best = candidates[0];
    if (!best) return false;
    const high = top.rank === '10' || top.rank === 'J' || top.rank === 'Q';
    if (high) return candidates.some((p) => p.makesPair);
    if (best.makesPair) return best.delta < 0;
    // A known good card beats a gamble on the deck when it clearly improves the hand.
    return best.delta <= -2 - this.profile.pair_hope * 2;
  }

  placeDrawn(fromDeck: boolean): CpuMove {
    const card = this.view.drawn_card;
    if (!card) return fromDeck ? { type: 'discard' } : { type: 'swap', position: this.faceDownPositions()[0] ?? 0 };
    const high = card.rank === '10' || card.rank === 'J' || card.rank === 'Q';
    let candidates = this.worthwhile(card, !fromDeck);
    if (!fromDeck && high) {
      // Taken from the discard pile only to pair it: keep to pairing placements.
      const pairing = candidates.filter((p) => p.makesPair);
      if (pairing.length > 0) candidates = pairing;
    }
    if (fromDeck) {
      const mustKeep = card.rank === 'JOKER' || card.rank === '2';
      candidates = candidates.filter((p) => mustKeep || p.delta < 0 || p.makesPair || (this.urgent && p.faceDown));
    }
    const choice = this.pick(candidates);
    if (choice) return { type: 'swap', position: choice.position };
    if (fromDeck && card.rank !== 'JOKER' && card.rank !== '2') return { type: 'discard' };
    return { type: 'swap', position: this.lastResort(card) };
  }

  /**
   * Somewhere to put a card that must be placed when no placement is good: the least harm,
   * preferring anything that is not a blunder (an even swap of a face-up card is not).
   */
  private lastResort(card: KnownCard): number {
    let best = { position: 0, harm: Number.POSITIVE_INFINITY };
    for (let position = 0; position < 6; position++) {
      const current = this.known(position);
      const partner = this.known(partnerOf(position));
      const pairsNegative = partner !== null && partner.rank === card.rank && this.neverPair(card);
      const before = current ? (partner ? columnScore(current, partner, this.options) : this.value(current)) : this.unknownValue + (partner ? this.value(partner) : 0);
      const after = partner ? columnScore(card, partner, this.options) : this.value(card);
      const delta = after - before;
      const blunder = pairsNegative || (current !== null && delta > 0);
      const harm = (blunder ? 1000 : 0) + delta;
      if (harm < best.harm) best = { position, harm };
    }
    return best.position;
  }

  flipChoice(): number {
    const down = this.faceDownPositions();
    // Prefer a card whose partner is still unknown: a pair is more likely to be completed later.
    const loose = down.filter((i) => this.known(partnerOf(i)) === null);
    const pool = loose.length > 0 ? loose : down;
    return pool[this.rng.int(pool.length)] ?? 0;
  }

  flipOrSkip(): CpuMove {
    const down = this.faceDownPositions();
    if (down.length === 1) {
      return this.willingToGoOut(this.hand.map((_, i) => this.known(i))) ? { type: 'flip', position: down[0] as number } : { type: 'skip_flip' };
    }
    return this.rng.next() < 0.5 + this.profile.aggression / 2 ? { type: 'flip', position: this.flipChoice() } : { type: 'skip_flip' };
  }
}

const expectedCache = new Map<string, number>();

/** The average points of a card drawn blind from the shoe under these options. */
export function expectedUnknownValue(options: Options): number {
  const key = JSON.stringify(options);
  let value = expectedCache.get(key);
  if (value === undefined) {
    const shoe = buildShoe(1, options.use_jokers, options.lucky_swing);
    value = shoe.reduce((sum, card) => sum + cardValue(card, options), 0) / shoe.length;
    if (expectedCache.size > 256) expectedCache.clear();
    expectedCache.set(key, value);
  }
  return value;
}
