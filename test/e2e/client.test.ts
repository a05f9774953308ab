/**
 * The browser client end to end: Chromium (Debian's, driven by playwright-core) against real
 * server processes on PostgreSQL and Redis. Screenshots of the main screens go to
 * test-results/screenshots.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT, spawnNode } from '../../scripts/lib/node-process.js';
import { freePort } from '../support/throwaway.js';
import { browserNode, frontProxy, playThroughUi } from './browser.js';

const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
// Real people do not click 20 times a second, but the browser test does: default rate limits. A
// hole's results stay 5 s: on a loaded machine a shorter pause could pass between two looks of
// playThroughUi, which then played on to the game's end waiting for them.
const fx = browserNode({ CPU_THINK_MS: '60', ROUND_PAUSE_MS: '5000', RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '40' });

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const phase = (page: Page) => page.evaluate(() => document.body.dataset.phase);

async function createRoom(page: Page, name: string, rounds: number): Promise<string> {
  await page.goto(fx.url());
  await page.fill('#name', name);
  await page.locator('summary').first().click();
  await page.selectOption('[data-option="rounds"]', String(rounds));
  await page.click('[data-testid="create"]');
  const code = (await page.locator('[data-testid="room-code"]').textContent())!;
  expect(code).toMatch(/^[A-Z]{4}$/);
  return code;
}

describe('browser client', () => {
  it('a person creates a room, adds CPUs, plays a whole game to the final standings', async () => {
    const page = await fx.browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(fx.url());
    await shot(page, '01-home');
    await createRoom(page, 'Alice', 2);
    await page.selectOption('#cpu', 'Maya');
    await page.click('[data-testid="add-cpu"]');
    await page.click('[data-testid="add-cpu"]');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(3);
    await page.check('[data-option="use_jokers"]');
    // The server applied it (the lobby re-renders from the server's state).
    await page.waitForTimeout(200);
    expect(await page.isChecked('[data-option="use_jokers"]')).toBe(true);
    await shot(page, '02-lobby');
    await page.click('[data-testid="start"]');
    await page.waitForSelector('[data-testid="my-card"]');
    await shot(page, '03-initial-flip');
    await expect.poll(() => page.locator('.chip', { hasText: 'Jokers' }).count()).toBe(1);
    // Illegal actions are not offered: before it is this seat's turn to draw, the deck is not clickable.
    expect(await page.locator('[data-testid="deck"][data-action]').count()).toBe(0);
    await playThroughUi(page, async () => (await page.evaluate(() => document.body.dataset.must)) === 'place');
    await shot(page, '04-holding-a-card');
    await playThroughUi(page, async () => (await phase(page)) === 'round_over');
    await shot(page, '05-round-over');
    await playThroughUi(page, async () => (await phase(page)) === 'game_over');
    await page.waitForSelector('text=Final standings');
    expect(await page.locator('[data-testid="standing"]').count()).toBe(3);
    expect(await page.locator('tr.winner').count()).toBeGreaterThan(0);
    await shot(page, '06-final-standings');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, '07-final-standings-phone');
    await page.close();
  }, 180_000);

  it('two browser players share a room through the invite link and play it out', async () => {
    const host = await fx.browser.newPage({ viewport: { width: 1100, height: 850 } });
    const guest = await (await fx.browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await createRoom(host, 'Host', 1);
    const invite = (await host.locator('[data-testid="invite"]').getAttribute('href'))!;
    await guest.goto(invite);
    expect(await guest.inputValue('#code')).toMatch(/^[A-Z]{4}$/);
    await guest.fill('#name', 'Guest');
    await guest.click('[data-testid="join"]');
    await expect.poll(() => host.locator('[data-testid="lobby-player"]').count()).toBe(2);
    await host.click('[data-testid="start"]');
    await guest.waitForSelector('[data-testid="my-card"]');
    await shot(guest, '08-guest-phone-game');
    const over = (page: Page) => async () => (await phase(page)) === 'game_over';
    await Promise.all([playThroughUi(host, over(host)), playThroughUi(guest, over(guest))]);
    for (const page of [host, guest]) expect(await page.locator('[data-testid="standing"]').count()).toBe(2);
    // A reload resumes the seat from the stored token.
    await guest.reload();
    await guest.waitForSelector('text=Final standings');
    await host.close();
    await guest.close();
  }, 180_000);

  it('the server is killed mid-game and restarted: the page reconnects and carries on by itself', async () => {
    const page = await fx.browser.newPage({ viewport: { width: 1200, height: 900 } });
    await createRoom(page, 'Survivor', 1);
    await page.click('[data-testid="add-cpu"]');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(2);
    await page.click('[data-testid="start"]');
    await playThroughUi(page, async () => (await page.locator('[data-testid="my-card"][data-face="up"]').count()) >= 3 && (await page.evaluate(() => document.body.dataset.must)) === 'draw');
    const room = await page.locator('.code').first().textContent();
    const upBefore = await page.locator('[data-testid="my-card"][data-face="up"]').count();

    fx.node.child.kill('SIGKILL');
    await fx.node.exited;
    await page.waitForSelector('#banner:not([hidden])');
    await shot(page, '09-reconnecting');
    await fx.respawn();
    await page.waitForSelector('#banner[hidden]', { state: 'attached', timeout: 30_000 });
    await expect.poll(() => page.evaluate(() => document.body.dataset.must), { timeout: 30_000 }).toBe('draw');
    expect(await page.locator('.code').first().textContent()).toBe(room);
    expect(await page.locator('[data-testid="my-card"][data-face="up"]').count()).toBe(upBefore);
    await playThroughUi(page, async () => (await phase(page)) === 'game_over');
    await page.waitForSelector('text=Final standings');
    await page.close();
  }, 180_000);

  it('in a cluster behind a load balancer, the node hosting the game is killed: the page moves to another node and carries on', async () => {
    // Node "a" is the one above; node "b" joins the same stores. The proxy prefers a, then b.
    const portB = await freePort();
    const b = await spawnNode({ ...fx.env(), PORT: String(portB) });
    const alive = new Set([fx.port, portB]);
    const proxy = await frontProxy(() => [fx.port, portB].filter((p) => alive.has(p)));
    try {
      const page = await fx.browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      await page.fill('#name', 'Clustered');
      await page.click('[data-testid="create"]');
      await page.waitForSelector('[data-testid="room-code"]');
      await page.click('[data-testid="add-cpu"]');
      await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(2);
      await page.click('[data-testid="start"]');
      await playThroughUi(page, async () => (await page.locator('[data-testid="my-card"][data-face="up"]').count()) >= 3 && (await page.evaluate(() => document.body.dataset.must)) === 'draw');
      const upBefore = await page.locator('[data-testid="my-card"][data-face="up"]').count();
      const welcomes = await page.evaluate(() => Number(document.body.dataset.welcomes));
      const killedAt = Date.now();
      fx.node.child.kill('SIGKILL');
      await fx.node.exited;
      alive.delete(fx.port);
      await page.waitForSelector('#banner:not([hidden])');
      await page.waitForSelector('#banner[hidden]', { state: 'attached', timeout: 60_000 });
      // Seated again (a fresh welcome from the surviving node), at the same point of the game.
      await expect.poll(() => page.evaluate(() => Number(document.body.dataset.welcomes)), { timeout: 60_000 }).toBeGreaterThan(welcomes);
      process.stdout.write(`page seated again ${Date.now() - killedAt} ms after its node was killed\n`);
      await expect.poll(() => page.evaluate(() => document.body.dataset.must), { timeout: 60_000 }).toBe('draw');
      expect(await page.locator('[data-testid="my-card"][data-face="up"]').count()).toBe(upBefore);
      await playThroughUi(page, async () => (await phase(page)) === 'game_over');
      await page.waitForSelector('text=Final standings');
      await page.close();
    } finally {
      proxy.close();
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }, 180_000);
});
