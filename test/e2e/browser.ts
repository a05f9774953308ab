import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Plays the seat shown on the page through its UI until `until` holds: it reads what the page
 * asks for (`data-must`) and clicks what a person would click.
 */
export async function playThroughUi(page: Page, until: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await until()) return;
    const must = await page.evaluate(() => document.body.dataset.must ?? '');
    const phase = await page.evaluate(() => document.body.dataset.phase ?? '');
    try {
      if (must === 'flip_initial' || must === 'flip' || must === 'flip_or_skip') {
        await page.locator('[data-testid="my-card"][data-face="down"][data-action="flip"]:not(.selected)').first().click({ timeout: 2000 });
      } else if (must === 'draw') {
        await page.locator('[data-testid="deck"][data-action]').click({ timeout: 2000 });
      } else if (must === 'place' || must === 'swap') {
        // Put it where a card is still face down if there is one, else on the first card.
        const down = page.locator('[data-testid="my-card"][data-face="down"][data-action="swap"]');
        if ((await down.count()) > 0) await down.first().click({ timeout: 2000 });
        else await page.locator('[data-testid="my-card"][data-action="swap"]').first().click({ timeout: 2000 });
      } else if (phase === 'round_over' && (await page.locator('[data-testid="next-round"]').count()) > 0) {
        await page.locator('[data-testid="next-round"]').click({ timeout: 2000 });
      } else {
        await page.waitForTimeout(50);
        continue;
      }
    } catch {
      // The page re-rendered under the click (a new state arrived): look again.
    }
    await page.waitForTimeout(30);
  }
  throw new Error('the game did not reach the wanted point through the UI');
}

/**
 * A stand-in for the load balancer of compose.yaml: a TCP proxy that sends each new
 * connection to the first backend that accepts it (in order), so that when a node dies the
 * page's next connection lands on another.
 */
export async function frontProxy(backends: () => number[]): Promise<{ port: number; close(): void }> {
  const { createServer, connect } = await import('node:net');
  const server = createServer((client) => {
    const ports = backends();
    const tryNext = (i: number): void => {
      if (i >= ports.length) {
        client.destroy();
        return;
      }
      const upstream = connect(ports[i]!, '127.0.0.1');
      upstream.once('connect', () => {
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      upstream.once('error', () => tryNext(i + 1));
    };
    // Hold what the client sends until an upstream is connected (pipe resumes it).
    client.pause();
    tryNext(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}
