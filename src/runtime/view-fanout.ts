/**
 * What a room sends its watchers after a change, built once per change (not once per watcher):
 * the public part of the view is serialised and diffed once, and each viewer (a seat, or null
 * for a spectator: the public view) adds only its own fields (`you`, `must`, `drawn_card`,
 * `replay_id`: see `personalView`). A view is numbered (`id`, unique in this process); the patch of a change turns
 * the viewer's previous view (number `patch.prior`) into this one, as RFC 6902 operations.
 *
 * Patches are diffs of two views of the same viewer, so they carry nothing the view may not
 * show (PROTOCOL.md, "Patches").
 */
import { personalView, playerView, type GameState, type GameView, type PersonalView, type RoomTimers } from '../game/index.js';
import { diff, type SetOp } from './json-diff.js';

/** One viewer's view after a change, ready to send. */
export interface ViewUpdate {
  seq: number;
  /** This view's number (null: one that came from elsewhere, a peer node: no patch follows it). */
  id: number | null;
  /** The view (`state` of a `state` frame), as JSON. */
  state: string;
  /** The operations from the viewer's view number `prior` to this one (null: none known). */
  patch: { prior: number; ops: string } | null;
}

type Shared = Omit<GameView, keyof PersonalView>;

let lastId = 0;

/**
 * The public part of the view (what `viewFor(game, null, ...)` gives less the personal fields,
 * in its key order). Whatever the change before left alone is taken from its views as it was,
 * by identity: a seat evolve did not copy (and whose presence did not change), the options,
 * the winners. Most of a move's view is then not rebuilt, and the diff passes over it at once
 * (identical objects). The parts are never changed once built.
 */
function publicPart(game: GameState, connected: ReadonlySet<string>, timers: RoomTimers, spectators: number, before: Views | null): Shared {
  const prior = before?.game;
  const priorShared = before?.shared;
  return {
    room: game.room,
    game_id: game.game_id,
    phase: game.phase,
    round: game.round,
    rounds: game.options.rounds,
    options: priorShared && prior!.options === game.options ? priorShared.options : { ...game.options },
    host_id: game.host_id,
    players: game.players.map((player, i) => {
      const shown = player.is_cpu || connected.has(player.id);
      const kept = priorShared?.players[i];
      return kept && prior!.players[i] === player && kept.connected === shown ? kept : playerView(player, shown);
    }),
    current_player_id: game.current_player_id,
    deck_count: game.deck.length,
    discard_top: game.discard[game.discard.length - 1] ?? null,
    drawn_from: game.drawn ? game.drawn.source : null,
    finisher_id: game.finisher_id,
    turn: game.turn,
    winner_ids: priorShared && prior!.winner_ids === game.winner_ids ? priorShared.winner_ids : game.winner_ids.slice(),
    next_round_at: game.phase === 'round_over' ? timers.next_round_at : null,
    spectators,
  };
}

const PERSONAL_KEYS = ['you', 'must', 'drawn_card', 'replay_id'] as const;

/** The views of one change: each viewer's is built on first use and kept. */
export class Views {
  readonly id = ++lastId;
  private head: string | null = null;
  /** The public part's operations from the change before, as JSON less its closing bracket. */
  private sharedOps: string | null;
  private readonly byViewer = new Map<string | null, ViewUpdate>();

  constructor(
    readonly game: GameState,
    readonly seq: number,
    readonly connected: readonly string[],
    readonly shared: Shared,
    /** The change before (null: none), and the public part's operations from it. */
    private before: { views: Views; ops: SetOp[] } | null,
  ) {
    this.sharedOps = before ? JSON.stringify(before.ops).slice(0, -1) : null;
  }

  /**
   * Forgets the change before (so that only two changes are ever held, and an idle room only
   * one): when superseded, and once every watcher has been sent its update. A viewer asked for
   * after that (a second connection of a seat, a resend) gets no patch: it is sent the view
   * whole, as it would be anyway since it holds no view of this connection's numbering.
   */
  drop(): void {
    this.before = null;
    // The public part's operations serve only patches from the change before.
    this.sharedOps = null;
  }

  /** The view of `viewerId` as JSON (built when first asked: a patch is often all that goes out). */
  stateOf(viewerId: string | null, mine: PersonalView = personalView(this.game, viewerId)): string {
    this.head ??= JSON.stringify(this.shared).slice(0, -1);
    return `${this.head},"you":${JSON.stringify(mine.you)},"must":${JSON.stringify(mine.must)},"drawn_card":${JSON.stringify(mine.drawn_card)},"replay_id":${JSON.stringify(mine.replay_id)}}`;
  }

  for(viewerId: string | null): ViewUpdate {
    let update = this.byViewer.get(viewerId);
    if (update) return update;
    const mine = personalView(this.game, viewerId);
    let patch: ViewUpdate['patch'] = null;
    if (this.before && this.sharedOps !== null) {
      const theirs = personalView(this.before.views.game, viewerId);
      let ops = this.sharedOps;
      for (const key of PERSONAL_KEYS) {
        const value = JSON.stringify(mine[key]);
        if (JSON.stringify(theirs[key]) === value) continue;
        ops += `${ops.length > 1 ? ',' : ''}{"op":"add","path":"/${key}","value":${value}}`;
      }
      patch = { prior: this.before.views.id, ops: `${ops}]` };
    }
    update = new LazyUpdate(this, viewerId, mine, patch);
    this.byViewer.set(viewerId, update);
    return update;
  }
}

/**
 * A viewer's update whose whole view is serialised only when asked for. A class rather than an
 * object literal with a getter and a closure: an idle room keeps one per seat, and this shape is
 * a few fields, not a dictionary-mode object and a closure context.
 */
class LazyUpdate implements ViewUpdate {
  readonly seq: number;
  readonly id: number;
  private text: string | null = null;

  constructor(
    private readonly views: Views,
    private readonly viewerId: string | null,
    private readonly mine: PersonalView,
    readonly patch: ViewUpdate['patch'],
  ) {
    this.seq = views.seq;
    this.id = views.id;
  }

  get state(): string {
    return (this.text ??= this.views.stateOf(this.viewerId, this.mine));
  }
}

/** A room's views over time: the latest change's, and the patches from the one before. */
export class ViewFanout {
  private latest: Views | null = null;

  /** The views of the room as it is (the same object while nothing changed). */
  views(game: GameState, seq: number, connected: readonly string[], timers: RoomTimers = { next_round_at: null }, spectators = 0): Views {
    const latest = this.latest;
    if (
      latest &&
      latest.game === game &&
      latest.connected === connected &&
      latest.seq === seq &&
      latest.shared.next_round_at === (game.phase === 'round_over' ? timers.next_round_at : null) &&
      latest.shared.spectators === spectators
    )
      return latest;
    const shared = publicPart(game, new Set(connected), timers, spectators, latest);
    const before = latest ? { views: latest, ops: diff(latest.shared, shared) } : null;
    // Only the change before is kept (the chain ends there).
    if (latest) latest.drop();
    this.latest = new Views(game, seq, connected, shared, before);
    return this.latest;
  }
}
