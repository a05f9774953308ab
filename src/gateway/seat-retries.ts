import type { Failure, Seat } from '../runtime/runtime.js';

/** How many seat-taking command ids a connection remembers. */
const KEPT = 16;

/**
 * What a retry is answered from: the seat the first attempt took, without the view it was
 * welcomed with (a whole view of objects, ~1 KB a connection kept for its life: the retry is
 * welcomed with the seat's view as it is now instead).
 */
export type SeatTaken = Omit<Seat, 'view'>;

/**
 * A connection's seat-taking commands (create_room, join_room) by id, so that a retry (same id,
 * same content) gets the seat the first attempt took rather than a second one. The room cannot
 * tell a retry of these: every attempt seats a new player id. The same id with other content is
 * refused, as the room refuses it for its own commands. Bounded; an outcome is kept while pending or successful (a refusal may well
 * be retried for real).
 */
export class SeatRetries {
  private readonly byId = new Map<string, { fingerprint: string; outcome: Promise<SeatTaken | Failure> }>();

  /**
   * The first attempt's outcome, if this command is a retry of it; 'other' when the id was
   * taken by a different command (refused: an id names one command).
   */
  earlier(id: string, fingerprint: string): Promise<SeatTaken | Failure> | 'other' | null {
    const entry = this.byId.get(id);
    if (!entry) return null;
    return entry.fingerprint === fingerprint ? entry.outcome : 'other';
  }

  remember(id: string, fingerprint: string, outcome: Promise<Seat | Failure>): void {
    const entry: { fingerprint: string; outcome: Promise<SeatTaken | Failure> } = { fingerprint, outcome };
    this.byId.delete(id);
    this.byId.set(id, entry);
    if (this.byId.size > KEPT) this.byId.delete(this.byId.keys().next().value as string);
    const forget = () => {
      if (this.byId.get(id) === entry) this.byId.delete(id);
    };
    outcome.then((result) => {
      if (!result.ok) return forget();
      const { view: _view, ...taken } = result;
      entry.outcome = Promise.resolve(taken);
    }, forget);
  }
}
