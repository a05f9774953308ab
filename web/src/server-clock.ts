/**
 * The server's clock as the page reckons it. The countdown to the next hole is a deadline on
 * the room node's clock (`next_round_at`); a device whose clock is off (set by hand, no network
 * time) would show 0 or an hour. The offset comes from an HTTP answer's `Date` header, good to
 * a second, which is what a countdown in seconds needs.
 */
let offset = 0;

/** Offset (ms) to add to this device's clock, from a `Date` header read between `sent` and `received`. */
export function offsetFrom(dateHeader: string | null, sent: number, received: number): number {
  const server = dateHeader ? Date.parse(dateHeader) : NaN;
  if (Number.isNaN(server)) return 0;
  // The header is cut to the second: its middle is the best guess, against the middle of the round trip.
  const estimate = server + 500 - (sent + received) / 2;
  // Within the header's own error (and the trip's), this device's clock is as good.
  return Math.abs(estimate) < 1500 ? 0 : estimate;
}

export async function measureServerClock(): Promise<void> {
  try {
    const sent = Date.now();
    const res = await fetch('/healthz', { method: 'HEAD', cache: 'no-store' });
    offset = offsetFrom(res.headers.get('date'), sent, Date.now());
  } catch {
    offset = 0; // no answer: this device's clock it is
  }
}

export function serverNow(): number {
  return Date.now() + offset;
}
