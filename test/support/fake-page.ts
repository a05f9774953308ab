/**
 * The browser around web/src/connection.ts, for unit tests of the page's connection: a fake
 * WebSocket that records what is sent and is opened, fed and closed by the test, a
 * localStorage in a Map, and fake timers. What is sent where and when, not the network.
 */
import { afterEach, beforeEach, vi } from 'vitest';

export class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: Array<Record<string, unknown>> = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(): void {
    this.readyState = FakeSocket.CLOSED;
  }
  open(): void {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  pings(): number {
    return this.sent.filter((m) => m.type === 'ping').length;
  }
}

/** The page's localStorage (its seat's token lives there). */
export const store = new Map<string, string>();
/** A view in play, enough for the connection (it reads the phase). */
export const playing = { game_id: 'g', phase: 'playing', players: [] };

/** Installs the fakes around each test of the calling file. */
export function useFakePage(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    store.clear();
    vi.stubGlobal('WebSocket', FakeSocket);
    vi.stubGlobal('localStorage', { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v), removeItem: (k: string) => store.delete(k) });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
}
