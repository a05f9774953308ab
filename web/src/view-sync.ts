/**
 * The view a connection holds, kept from `welcome`, `state` and `patch` frames (PROTOCOL.md,
 * "Patches"). A patch applies only to the view it was made from (`base` = the `rev` held); any
 * other, or one that does not apply, means a frame was missed: the holder asks for a `sync` and
 * ignores patches until the full `state` comes.
 */
import jsonPatch, { type Operation } from 'fast-json-patch';

export type Frame = Record<string, any> & { type: string };

export interface Taken {
  /** What to pass on: a patch becomes the `state` frame it stands for; null when dropped. */
  frame: Frame | null;
  /** The caller should send `{ "type": "sync" }` (once: further misses wait for the state). */
  sync: boolean;
}

export class ViewSync {
  /** The view held (the `state` of the latest welcome, state or applied patch). */
  view: Record<string, any> | null = null;
  /** Its number on this connection (null: none, or out of step and waiting for a state). */
  rev: number | null = null;
  seq = 0;
  private waiting = false;

  /** `mutate`: apply patches in place (cheaper; only when nobody else holds the old view). */
  constructor(private readonly mutate = false) {}

  /** Forgets the view (a new connection numbers its views anew). */
  reset(): void {
    this.view = null;
    this.rev = null;
    this.waiting = false;
  }

  take(frame: Frame): Taken {
    if (frame.type === 'welcome' || frame.type === 'state') {
      this.view = frame.state;
      this.rev = typeof frame.rev === 'number' ? frame.rev : null;
      this.seq = frame.seq;
      this.waiting = false;
      return { frame, sync: false };
    }
    if (frame.type !== 'patch') return { frame, sync: false };
    if (this.view === null || this.rev === null || frame.base !== this.rev) return this.outOfStep();
    let next: Record<string, any>;
    try {
      next = jsonPatch.applyPatch(this.view, frame.ops as Operation[], false, this.mutate).newDocument;
    } catch {
      return this.outOfStep();
    }
    this.view = next;
    this.rev = frame.rev;
    this.seq = frame.seq;
    return { frame: { type: 'state', seq: frame.seq, rev: frame.rev, state: next }, sync: false };
  }

  private outOfStep(): Taken {
    this.rev = null;
    const sync = !this.waiting;
    this.waiting = true;
    return { frame: null, sync };
  }
}
