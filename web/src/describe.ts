import { cardName, cardShort as shortName, isUp, positionName, sameFace } from './cards.js';
import type { FaceUpCard, Player, View } from './types.js';

/** `short` for the line on the screen ("7♥"), `spoken` for the live region ("7 of hearts": a screen reader reads the symbols as symbols). */
export type Wording = 'short' | 'spoken';

/**
 * "What just happened", derived from two consecutive views of the same game: works for any
 * seat, for spectators and for replay frames alike, and says only what the views show (a card
 * drawn from the deck is never named to others: the views do not carry it).
 */
export function whatHappened(prev: View | null, next: View, wording: Wording = 'short'): string | null {
  if (!prev || prev.game_id !== next.game_id) return null;
  const cardShort = (card: FaceUpCard) => (wording === 'spoken' ? cardName(card) : shortName(card));
  const name = (id: string | null) => next.players.find((p) => p.id === id)?.name ?? prev.players.find((p) => p.id === id)?.name ?? 'Someone';
  const lines: string[] = [];

  for (const p of prev.players) {
    const now = next.players.find((q) => q.id === p.id);
    if (!now) lines.push(`${p.name} left`);
    else if (!p.is_cpu && now.is_cpu) lines.push(`${p.name} left the game; a CPU (${now.cpu_profile ?? 'CPU'}) plays their seat now`);
  }
  for (const p of next.players) if (!prev.players.some((q) => q.id === p.id)) lines.push(`${p.name} ${p.is_cpu ? 'joined as a CPU' : 'joined'}`);

  if (prev.round !== next.round && next.phase !== 'lobby') {
    lines.push(next.round === 1 ? 'The game has started: new cards are dealt' : `Hole ${next.round}: new cards are dealt`);
    return lines.join('. ');
  }

  const actor = prev.current_player_id;
  for (const after of next.players) {
    const before = prev.players.find((p) => p.id === after.id);
    if (!before || before.cards.length !== after.cards.length) continue;
    const move = describeHand(before, after, prev, next, cardShort);
    if (move) lines.push(`${after.name} ${move}`);
  }
  // A draw: the card taken from the discard pile is public, one from the deck is not.
  if (!prev.drawn_from && next.drawn_from) {
    lines.push(
      next.drawn_from === 'deck'
        ? `${name(next.current_player_id)} drew from the deck`
        : `${name(next.current_player_id)} took the ${prev.discard_top ? cardShort(prev.discard_top) : 'card'} from the discard pile`,
    );
  }
  const handsSame = next.players.every((p) => {
    const before = prev.players.find((q) => q.id === p.id);
    return before && before.cards.every((c, i) => sameFace(c, p.cards[i]));
  });
  if (prev.drawn_from === 'deck' && !next.drawn_from && handsSame && next.discard_top && prev.round === next.round) {
    lines.push(`${name(actor)} discarded the ${cardShort(next.discard_top)}`);
  } else if (
    actor &&
    prev.current_player_id !== next.current_player_id &&
    !prev.drawn_from &&
    handsSame &&
    sameFace(prev.discard_top, next.discard_top) &&
    prev.phase !== 'initial_flip' &&
    next.phase !== 'initial_flip'
  ) {
    lines.push(`${name(actor)} skipped the flip`);
  }
  if (!prev.finisher_id && next.finisher_id) lines.push(`${name(next.finisher_id)} went out: everyone else has one last turn`);
  if (prev.phase !== 'round_over' && next.phase === 'round_over') lines.push(`Hole ${next.round} is over`);
  if (prev.phase !== 'game_over' && next.phase === 'game_over') lines.push('The game is over');
  return lines.length ? lines.join('. ') : null;
}

/** One hand's change between two views: a swap, a flip, several flips (initial or a knock). */
function describeHand(before: Player, after: Player, prev: View, next: View, cardShort: (card: FaceUpCard) => string): string | null {
  const changed = after.cards.map((c, i) => i).filter((i) => !sameFace(before.cards[i], after.cards[i]));
  if (changed.length === 0 || prev.round !== next.round) return null;
  // At the end of a hole every card is revealed at once: that is not a move (the results say it).
  if ((next.phase === 'round_over' || next.phase === 'game_over') && changed.length > 1) return null;
  if (changed.length === 1) {
    const i = changed[0]!;
    const was = before.cards[i]!;
    const now = after.cards[i]!;
    if (!isUp(now)) return null;
    if (!was.face_up || sameFace({ ...now }, { ...was, face_up: true } as never)) {
      // Face down to face up: a flip, unless a drawn card went there (the discard pile then shows the old card).
      if (prev.drawn_from && !next.drawn_from) {
        return `swapped the ${cardShort(now)} into ${positionName(i)}, discarding ${next.discard_top ? `the ${cardShort(next.discard_top)}` : 'a card'}`;
      }
      return `flipped the ${cardShort(now)} (${positionName(i)})`;
    }
    return `swapped the ${cardShort(now)} into ${positionName(i)}, discarding the ${cardShort(was as never)}`;
  }
  const shown = changed.map((i) => after.cards[i]).filter(isUp).map(cardShort);
  if (next.phase === 'initial_flip' || prev.phase === 'initial_flip') return `flipped ${shown.join(' and ')}`;
  return `knocked, flipping ${shown.join(', ')}`;
}
