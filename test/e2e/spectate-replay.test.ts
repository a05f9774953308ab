/**
 * Spectators and replays in the browser (Chromium against a real node process): a spectator
 * watches a game to its end from an invite link; a player opens the replay from the final
 * standings and steps through it. Screenshots at 1280×800 and 390×844 go to web/screenshots/.
 */
import { applyPatch } from 'fast-json-patch';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT } from '../../scripts/lib/node-process.js';
import { TestClient } from '../support/client.js';
import { assertNoSecrets, playUntil } from '../support/play.js';
import { axe, browserNode, playThroughUi } from './browser.js';
import { noSidewaysScroll } from './looks.js';

const SHOTS = path.join(ROOT, 'web', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const fx = browserNode({ CPU_THINK_MS: '40', ROUND_PAUSE_MS: '800' });

/** The screen at a laptop's and a phone's size (no sideways scroll on the phone), then back to the page's own size. */
async function shot(page: Page, name: string): Promise<void> {
  const own = page.viewportSize()!;
  for (const [size, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(50);
    if (size === 'phone') await noSidewaysScroll(page, name);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size}.jpg`), type: 'jpeg', quality: 80 });
  }
  await page.setViewportSize(own);
}
const phase = (page: Page) => page.evaluate(() => document.body.dataset.phase);

describe('spectators and replays in the browser', () => {
  it('a spectator opens a watch link and watches a game to the end: read-only, the count shown, no hidden card on the page', async () => {
    const host = await TestClient.connect(fx.port);
    await host.ok({ type: 'create_room', name: 'Hana', options: { rounds: 2, initial_flips: 1 } });
    await host.ok({ type: 'add_cpu', profile: 'Kenji' });
    const page = await (await fx.browser.newContext({ viewport: { width: 1200, height: 900 }, bypassCSP: true })).newPage();
    const frames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
    await page.goto(`${fx.url()}?watch=${host.room.toLowerCase()}`);
    await page.waitForSelector('[data-testid="spectating"]');
    await host.waitForState((v) => v.spectators === 1);
    await host.ok({ type: 'start_game' });
    await page.waitForSelector('[data-testid="opponent"]');
    await playUntil(host, () => host.seq >= 12);
    await expect.poll(() => page.locator('[data-testid="spectators"]').textContent()).toContain('1 watching');
    // Nothing to press, no seat of its own: every hand is someone else's.
    expect(await page.locator('[data-testid="my-hand"]').count()).toBe(0);
    expect(await page.locator('[data-testid="deck"][data-action]').count()).toBe(0);
    expect(await page.locator('[data-testid="opponent"]').count()).toBe(2);
    await shot(page, '20-spectator-table');
    await axe(page, '20-spectator-table');
    await playUntil(host, () => false);
    await expect.poll(() => phase(page), { timeout: 20_000 }).toBe('game_over');
    await page.waitForSelector('[data-testid="results"]');
    expect(await page.locator('[data-testid="replay-link"]').count()).toBe(0);
    await shot(page, '21-spectator-final-standings');
    await axe(page, '21-spectator-final-standings');
    // What reached the page (it asks for patches): the public view only, whole or patched. Each
    // patch is applied to the view it follows, and every view so rebuilt is checked.
    const parsed = frames.map((f) => JSON.parse(f));
    expect(parsed.filter((f) => f.type === 'state' || f.type === 'patch').length).toBeGreaterThan(10);
    let held: any = null;
    for (const frame of parsed) {
      assertNoSecrets(frame);
      if (frame.type === 'patch') {
        expect(held).not.toBeNull();
        held = applyPatch(structuredClone(held), frame.ops, true, false).newDocument;
        assertNoSecrets({ type: 'state', seq: frame.seq, state: held } as never);
      } else if (frame.state) held = frame.state;
      if (held) expect(held).toMatchObject({ you: null, must: null, drawn_card: null, replay_id: null });
    }
    await page.click('[data-testid="stop-watching"]');
    await page.waitForSelector('[data-testid="create"]');
    await host.waitForState((v) => v.spectators === 0);
    await page.close();
    await host.close();
  });

  it('a player opens the replay from the final standings and steps through it, every hand shown', async () => {
    const page = await (await fx.browser.newContext({ viewport: { width: 1200, height: 900 }, bypassCSP: true })).newPage();
    await page.goto(fx.url());
    await page.fill('#name', 'Rui');
    await page.locator('summary').first().click();
    await page.selectOption('[data-option="rounds"]', '1');
    await page.click('[data-testid="create"]');
    await page.waitForSelector('[data-testid="room-code"]');
    await page.click('[data-testid="add-cpu"]');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(2);
    await page.click('[data-testid="start"]');
    await page.waitForSelector('[data-testid="my-card"]');
    await playThroughUi(page, async () => (await phase(page)) === 'game_over');
    const standings = (await page.locator('[data-testid="standing"]').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    await page.click('[data-testid="replay-link"]');
    await page.waitForSelector('[data-testid="replay-controls"], [data-testid="scrubber"]');
    expect(page.url()).toMatch(/\?replay=[0-9a-f]{32}$/);
    const position = () => page.locator('[data-testid="replay-position"]').textContent();
    const total = Number(/of (\d+)/.exec((await position())!)![1]);
    expect(total).toBeGreaterThan(10);
    const at = () => page.evaluate(() => Number(document.body.dataset.replayIndex));
    const start = await at();
    // Step forward, and back.
    await page.click('[data-testid="replay-step"]');
    await page.click('[data-testid="replay-step"]');
    expect(await at()).toBe(start + 2);
    await page.click('[data-testid="replay-back"]');
    expect(await at()).toBe(start + 1);
    // Every hand face up: a finished game has no secrets left.
    expect(await page.locator('[data-testid="opponent"] [data-face="down"]').count()).toBe(0);
    expect(await page.locator('[data-testid="opponent"] [data-face="up"]').count()).toBe(12);
    const said = await page.locator('[data-testid="replay-said"]').textContent();
    expect(said).toBeTruthy();
    // Play, then pause.
    await page.click('[data-testid="replay-play"]');
    await expect.poll(at, { timeout: 10_000 }).toBeGreaterThan(start + 2);
    await page.click('[data-testid="replay-play"]');
    const paused = await at();
    await page.waitForTimeout(1600);
    expect(await at()).toBe(paused);
    // The scrubber to the middle, then to the end: the final standings as the player saw them.
    const scrub = async (to: number) =>
      page.locator('[data-testid="scrubber"]').evaluate((el, value) => {
        const input = el as HTMLInputElement;
        input.value = String(value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }, to);
    await scrub(Math.floor(total / 2));
    expect(await at()).toBe(Math.floor(total / 2));
    await shot(page, '22-replay-mid-game');
    await axe(page, '22-replay-mid-game');
    await scrub(total - 1);
    await page.waitForSelector('[data-testid="results"]');
    const replayed = (await page.locator('[data-testid="standing"]').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim().replace(' (you)', ''));
    expect(replayed).toEqual(standings.map((t) => t.replace(' (you)', '')));
    expect(await page.locator('[data-testid="replay-said"]').textContent()).toBe('The game is over');
    await shot(page, '23-replay-final');
    await axe(page, '23-replay-final');
    // The link works for anyone: a fresh page (no seat, no token) opens it too.
    const other = await fx.browser.newPage({ viewport: { width: 420, height: 900 } });
    await other.goto(page.url());
    await other.waitForSelector('[data-testid="scrubber"]');
    await other.close();
    // A made-up link is refused in words.
    await page.goto(`${fx.url()}?replay=${'0'.repeat(32)}`);
    await expect.poll(() => page.locator('[data-testid="error"]').textContent()).toContain('no finished game');
    await page.close();
  });
});
