/**
 * Limits per client address, shared by all the sockets of that address: how many sockets it
 * may hold, how fast it may create and join rooms, and how many unknown room codes it may try.
 */

export interface AddressLimitsConfig {
  /** Open WebSockets on this node, in all and per address. */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** create_room and join_room per address: a token bucket. */
  roomPerMinute: number;
  roomBurst: number;
  /** Failed room-code guesses (`unknown_room`) an address may make within the window. */
  guessLimit: number;
  guessWindowMs: number;
  /** At most this many addresses' rate state is kept (least recently seen go first). */
  maxTracked: number;
}

export const DEFAULT_MAX_TRACKED = 100_000;

/** What a session may ask of its address's limits. */
export interface RoomGate {
  /** Takes one create/join from the address's bucket; false when it is empty. */
  takeRoom(): boolean;
  /**
   * Before a join by code: false while the address has used up its failed guesses in the
   * window; else the guess is counted as failed until `refundGuess` says otherwise (so that
   * guesses sent together, before any answer, are counted too).
   */
  takeGuess(): boolean;
  /** The guess found its room (or failed for another reason): it was no miss. */
  refundGuess(): void;
  /** A failed guess made another way (a resume with a made-up token). */
  missed(): void;
}

/** A gate that never refuses (a session without an address: unit tests). */
export const OPEN_GATE: RoomGate = { takeRoom: () => true, takeGuess: () => true, refundGuess: () => {}, missed: () => {} };

export type Admission = 'ok' | 'node_full' | 'address_full';

interface RateState {
  tokens: number;
  at: number;
  /** Times of the failed guesses within the window, oldest first (at most guessLimit). */
  misses: number[];
}

export class AddressLimits {
  private readonly open = new Map<string, number>();
  private total = 0;
  /** Rate state by address, in least-recently-used order (a Map keeps insertion order). */
  private readonly rates = new Map<string, RateState>();

  constructor(
    private readonly config: AddressLimitsConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a new socket of `key`, unless the node or the address is at its cap. */
  admit(key: string): Admission {
    if (this.total >= this.config.maxConnections) return 'node_full';
    const held = this.open.get(key) ?? 0;
    if (held >= this.config.maxConnectionsPerIp) return 'address_full';
    this.open.set(key, held + 1);
    this.total += 1;
    return 'ok';
  }

  /** A socket counted by `admit` closed. */
  release(key: string): void {
    const held = this.open.get(key);
    if (held === undefined) return;
    this.total -= 1;
    if (held <= 1) this.open.delete(key);
    else this.open.set(key, held - 1);
  }

  gate(key: string): RoomGate {
    return new AddressGate(this, key);
  }

  takeRoom(key: string): boolean {
    const state = this.touch(key);
    const now = this.now();
    state.tokens = Math.min(this.config.roomBurst, state.tokens + ((now - state.at) / 60_000) * this.config.roomPerMinute);
    state.at = now;
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }

  guessBlocked(key: string): boolean {
    const state = this.rates.get(key);
    if (!state) return false;
    this.forgetOldMisses(state);
    return state.misses.length >= this.config.guessLimit;
  }

  missed(key: string): void {
    const state = this.touch(key);
    this.forgetOldMisses(state);
    state.misses.push(this.now());
    if (state.misses.length > this.config.guessLimit) state.misses.shift();
  }

  refundGuess(key: string): void {
    this.rates.get(key)?.misses.pop();
  }

  /** Forgets the addresses that would behave as new ones: a full bucket and no recent misses. */
  sweep(): number {
    let dropped = 0;
    for (const [key, state] of this.rates) {
      this.forgetOldMisses(state);
      const refilled = state.tokens + ((this.now() - state.at) / 60_000) * this.config.roomPerMinute;
      if (refilled >= this.config.roomBurst && state.misses.length === 0) {
        this.rates.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  get connections(): number {
    return this.total;
  }

  /** How many addresses have rate state (bounded by maxTracked). */
  get tracked(): number {
    return this.rates.size;
  }

  /** The address's rate state, now the most recently used; a new one may push out the oldest. */
  private touch(key: string): RateState {
    let state = this.rates.get(key);
    if (state) this.rates.delete(key);
    else state = { tokens: this.config.roomBurst, at: this.now(), misses: [] };
    this.rates.set(key, state);
    // A flood of fresh addresses costs the oldest ones their history, not the node its memory.
    while (this.rates.size > this.config.maxTracked) this.rates.delete(this.rates.keys().next().value!);
    return state;
  }

  private forgetOldMisses(state: RateState): void {
    const since = this.now() - this.config.guessWindowMs;
    while (state.misses.length > 0 && state.misses[0]! <= since) state.misses.shift();
  }
}

/**
 * One address's gate, held by each of its sockets: a class (two fields, methods shared) rather
 * than an object of four closures, since every connection keeps one for its life.
 */
class AddressGate implements RoomGate {
  constructor(
    private readonly limits: AddressLimits,
    private readonly key: string,
  ) {}

  takeRoom(): boolean {
    return this.limits.takeRoom(this.key);
  }

  takeGuess(): boolean {
    if (this.limits.guessBlocked(this.key)) return false;
    this.limits.missed(this.key);
    return true;
  }

  refundGuess(): void {
    this.limits.refundGuess(this.key);
  }

  missed(): void {
    this.limits.missed(this.key);
  }
}
