/**
 * The table as people use it (issue 14), in Chromium against a real node: axe-core on every
 * screen, a whole game by keyboard alone with focus kept, the results panel in view on a laptop
 * and a phone, no sideways scroll with 24-character names, the initial-flip selection only in
 * your own grid, nothing playable while reconnecting, and "Play again" keeping the table.
 * Screenshots of every screen at 1280×800 and 390×844 go to web/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT } from '../../scripts/lib/node-process.js';
import { axe, browserNode, playThroughUi } from './browser.js';
import { playByKeyboard, tabTo } from './keyboard.js';
import { expectFocusRing, inViewport, noSidewaysScroll, tapTargetsBigEnough } from './looks.js';

const SHOTS = path.join(ROOT, 'web', 'screenshots');
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
mkdirSync(SHOTS, { recursive: true });
const fx = browserNode({ CPU_THINK_MS: '40', ROUND_PAUSE_MS: '10000', RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '40' });

const phase = (page: Page) => page.evaluate(() => document.body.dataset.phase);
const must = (page: Page) => page.evaluate(() => document.body.dataset.must);

/** A page whose context lets the test inject axe-core (the node's CSP allows only its own scripts). */
async function newPage(viewport = LAPTOP): Promise<Page> {
  const context = await fx.browser.newContext({ viewport, bypassCSP: true });
  return context.newPage();
}

/** Screenshots of the screen at both sizes, from the top or with `show` scrolled into view (the page is put back to its own size after). */
async function shots(page: Page, name: string, show?: string): Promise<void> {
  const own = page.viewportSize() ?? LAPTOP;
  for (const [size, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport);
    if (show) await page.locator(show).scrollIntoViewIfNeeded();
    else await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(50);
    // JPEG: the felt's gradient makes PNGs of 100-400 KB each; these are a few dozen KB.
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size}.jpg`), type: 'jpeg', quality: 80 });
  }
  await page.setViewportSize(own);
}

async function createRoom(page: Page, name: string, rounds: number): Promise<string> {
  await page.goto(fx.url());
  await page.fill('#name', name);
  await page.locator('summary', { hasText: 'House rules' }).click();
  await page.selectOption('[data-option="rounds"]', String(rounds));
  await page.click('[data-testid="create"]');
  return (await page.locator('[data-testid="room-code"]').textContent())!;
}

describe('the table (issue 14)', () => {
  it('start screen: friendly errors next to the field, the form keeps what was typed; axe finds nothing', async () => {
    const page = await newPage();
    await page.goto(fx.url());
    await axe(page, 'start');
    await shots(page, '01-start');
    // A 25-character name is not cut silently: it is refused, saying so, and kept as typed.
    const long = 'A'.repeat(25);
    await page.fill('#name', long);
    await page.fill('#code', 'ZZZZ');
    await page.click('[data-testid="join"]');
    await expect.poll(() => page.locator('#name-error').textContent()).toContain('at most 24 characters');
    expect(await page.inputValue('#name')).toBe(long);
    expect(await page.inputValue('#code')).toBe('ZZZZ');
    // A code that names no room: said next to the code field, in words.
    await page.fill('#name', 'Zed');
    await page.click('[data-testid="join"]');
    await expect.poll(() => page.locator('#code-error').textContent()).toContain('There is no room ZZZZ');
    expect(await page.inputValue('#code')).toBe('ZZZZ');
    expect(await page.inputValue('#name')).toBe('Zed');
    expect(await page.getAttribute('#code', 'aria-invalid')).toBe('true');
    await page.fill('#code', 'ab1');
    await page.click('[data-testid="join"]');
    await expect.poll(() => page.locator('#code-error').textContent()).toContain('4 letters');
    await axe(page, 'start with an error');
    await shots(page, '02-start-error');
    // Options that need Jokers cannot be ticked without them.
    await page.locator('summary', { hasText: 'House rules' }).click();
    expect(await page.isDisabled('[data-option="lucky_swing"]')).toBe(true);
    await page.check('[data-option="use_jokers"]');
    expect(await page.isDisabled('[data-option="lucky_swing"]')).toBe(false);
    await page.context().close();
  }, 60_000);

  it('a whole game by keyboard alone: focus stays where it was across every update; the selection stays in your own grid', async () => {
    const page = await newPage();
    await page.goto(fx.url());
    // The live region is one element for the whole game: remembered here, compared at the end.
    await page.evaluate(() => ((window as unknown as { liveAtStart: unknown }).liveAtStart = document.getElementById('live')));
    await tabTo(page, '#name');
    await page.keyboard.type('Keys');
    await tabTo(page, 'summary');
    await page.keyboard.press('Enter');
    await tabTo(page, '[data-option="rounds"]');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown'); // 2 holes: the host starts the second from the results, by keyboard
    await tabTo(page, '[data-testid="create"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="room-code"]');
    await axe(page, 'lobby, alone');
    // Start is disabled with a reason until there are two players.
    expect(await page.isDisabled('[data-testid="start"]')).toBe(true);
    expect(await page.locator('[data-testid="start-hint"]').textContent()).toContain('at least 2 players');
    await shots(page, '03-lobby-alone');
    await tabTo(page, '#cpu');
    await tabTo(page, '[data-testid="add-cpu"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(2);
    // Focus stayed on the button through the update.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.key)).toBe('add-cpu');
    await expectFocusRing(page, 'the Add CPU button');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(3);
    await axe(page, 'lobby');
    await shots(page, '04-lobby');
    await tabTo(page, '[data-testid="start"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="my-card"]');
    expect(await must(page)).toBe('flip_initial');
    // One card chosen: outlined in your grid only, never in the others'.
    await tabTo(page, '[data-testid="my-card"][data-pos="0"]');
    await page.keyboard.press(' ');
    await expect.poll(() => page.locator('.card.selected').count()).toBe(1);
    expect(await page.locator('[data-testid="my-hand"] .card.selected').count()).toBe(1);
    expect(await page.locator('[data-testid="opponent"] .card.selected').count()).toBe(0);
    expect(await page.getAttribute('[data-testid="my-card"][data-pos="0"]', 'aria-pressed')).toBe('true');
    // The focus ring shows on the chosen card (its blue selection does not hide it), and on the
    // next card, over its neighbours' yellow "press me" glow.
    await expectFocusRing(page, 'a chosen card');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.pos)).toBe('1');
    await expectFocusRing(page, 'a card between two others');
    await page.keyboard.press('Shift+Tab');
    await axe(page, 'initial flip');
    await shots(page, '05-initial-flip');
    const played = await playByKeyboard(page, async () => (await must(page)) === 'place' || (await must(page)) === 'swap');
    // Holding a card: the status names it, the discard pile says what pressing it does.
    expect(await page.locator('[data-testid="status"]').textContent()).toMatch(/You (drew|took) the /);
    const discardLabel = (await page.getAttribute('[data-testid="discard"]', 'aria-label'))!;
    expect(discardLabel).toMatch(/Discard pile, .+ on top/);
    if ((await must(page)) === 'place') expect(discardLabel).toContain('press to throw away the');
    // The drawn card was said through the live region.
    expect(await page.locator('#live').textContent()).toMatch(/You (drew|took) the /);
    await axe(page, 'holding a card');
    await shots(page, '06-holding-a-card', '[data-testid="my-hand"]');
    const rest = await playByKeyboard(page, async () => (await phase(page)) === 'game_over');
    expect(played.moves + rest.moves).toBeGreaterThan(4);
    expect(played.focusLost + rest.focusLost).toBe(0);
    expect(played.swallowed + rest.swallowed).toBe(0);
    // Every move was told in the "what just happened" line (CPUs' too), and the live region is one element.
    expect(await page.locator('#live').count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { liveAtStart: unknown }).liveAtStart === document.getElementById('live'))).toBe(true);
    await page.waitForSelector('[data-testid="results"]');
    expect(await page.locator('[data-testid="winner"]').textContent()).toMatch(/wins? the game/);
    await axe(page, 'game over');
    await page.context().close();
  }, 180_000);

  it('results in view on a laptop and a phone, with the countdown; no sideways scroll with 24-character names; play again keeps the table', async () => {
    const name = 'Bartholomew Fitzgerald-J'; // 24 characters
    expect(name.length).toBe(24);
    const page = await newPage(LAPTOP);
    const guest = await newPage(PHONE);
    // The guest's clock is an hour fast (a phone set by hand): its countdown must still count
    // down from the room's deadline, which is on the server's clock.
    await guest.clock.setSystemTime(Date.now() + 3_600_000);
    await createRoom(page, name, 2);
    await noSidewaysScroll(page, 'lobby');
    const code = (await page.locator('[data-testid="room-code"]').textContent())!;
    await guest.goto(`${fx.url()}?room=${code}`);
    await guest.fill('#name', 'Wilhelmina Clementine-Ox');
    // Enter in the name field joins the room of the invite link (its code is filled in).
    await guest.press('#name', 'Enter');
    await page.selectOption('#cpu', 'Sofia');
    await page.click('[data-testid="add-cpu"]');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(3);
    // A house rule the next game must keep.
    await page.check('[data-option="use_jokers"]');
    await expect.poll(() => guest.isChecked('[data-option="use_jokers"]')).toBe(true);
    await noSidewaysScroll(guest, 'lobby on a phone');
    await tapTargetsBigEnough(guest, 'lobby on a phone');
    // The host's lobby on a phone: Copy, Remove, the CPU list, the house rules' checkboxes.
    await page.setViewportSize(PHONE);
    await tapTargetsBigEnough(page, "host's lobby on a phone");
    await page.setViewportSize(LAPTOP);
    await axe(guest, 'lobby as a guest');
    await shots(guest, '07-lobby-guest');
    await page.click('[data-testid="start"]');
    await guest.waitForSelector('[data-testid="my-card"]');
    await noSidewaysScroll(guest, 'table on a phone');
    await tapTargetsBigEnough(guest, 'table on a phone');
    await axe(guest, 'table as a guest on a phone');
    // The guest plays by clicks while the host waits for a CPU move to be described.
    const guestPlays = playThroughUi(guest, async () => (await phase(guest)) === 'game_over', 150_000);
    await playThroughUi(page, async () => (await must(page)) === 'draw');
    await expect.poll(() => page.locator('[data-testid="happened"]').textContent(), { timeout: 10_000 }).toMatch(/\w/);
    await page.click('[data-testid="leave"]');
    await page.waitForSelector('[data-testid="leave-yes"]');
    await axe(page, 'leave confirmation');
    await shots(page, '08-leave-confirmation');
    // Focus went to "Stay"; Escape closes the question and puts focus back on Leave.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.key)).toBe('leave-no');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid="leave-yes"]').count()).toBe(0);
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.key)).toBe('leave');
    await page.locator('.how-to summary').click();
    await axe(page, 'how to play');
    await shots(page, '09-how-to-play', '.how-to');
    await page.locator('.how-to summary').click();
    await playThroughUi(page, async () => (await phase(page)) === 'round_over');
    await page.waitForSelector('[data-testid="results"]');
    for (const viewport of [LAPTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await inViewport(page, '[data-testid="results"]');
      await noSidewaysScroll(page, `results at ${viewport.width}`);
    }
    await page.setViewportSize(LAPTOP);
    expect(await page.locator('[data-testid="standing"]').count()).toBe(3);
    expect(await page.locator('[data-testid="winner"]').textContent()).toMatch(/wins? hole 1 with -?\d+/);
    const countdown = Number(await page.locator('[data-testid="countdown"]').textContent());
    expect(countdown).toBeGreaterThan(0);
    expect(countdown).toBeLessThanOrEqual(10);
    await axe(page, 'round over');
    await shots(page, '10-round-over');
    await inViewport(guest, '[data-testid="results"]');
    const guestCountdown = Number(await guest.locator('[data-testid="countdown"]').textContent());
    process.stdout.write(`countdowns: host ${countdown} s, guest (clock an hour fast) ${guestCountdown} s\n`);
    expect(guestCountdown).toBeGreaterThan(0);
    // Its clock's offset comes from a Date header, good to a second (server-clock.ts): 11 of a
    // 10 s pause is within that (seen once under a loaded CI run); an hour off is not.
    expect(guestCountdown).toBeLessThanOrEqual(11);
    await playThroughUi(page, async () => (await phase(page)) === 'game_over');
    await guestPlays;
    await page.waitForSelector('text=Final standings');
    for (const viewport of [LAPTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await inViewport(page, '[data-testid="results"]');
      await noSidewaysScroll(page, `final standings at ${viewport.width}`);
      await tapTargetsBigEnough(page, `final standings at ${viewport.width}`);
    }
    await page.setViewportSize(LAPTOP);
    await axe(page, 'final standings');
    await shots(page, '11-final-standings');
    await axe(guest, 'final standings as a guest');
    expect(await guest.locator('[data-testid="next-game"]').count()).toBe(0);
    // The others are asked to stay for the host's next game.
    expect(await guest.locator('[data-testid="results"]').textContent()).toContain('Stay here');
    // "You" is marked on your name, not on your rank.
    const youMark = await page.evaluate(() => ({
      name: getComputedStyle(document.querySelector('[data-testid="results"] tr.you .name')!).textDecorationLine,
      rank: getComputedStyle(document.querySelector('[data-testid="results"] tr.you td')!).textDecorationLine,
    }));
    expect(youMark).toEqual({ name: 'underline', rank: 'none' });

    // Play again: the same table, a new game.
    const before = await page.evaluate(() => [...document.querySelectorAll('[data-testid="opponent"] .name')].map((e) => e.textContent));
    await page.click('[data-testid="next-game"]');
    await expect.poll(() => phase(page), { timeout: 15_000 }).toBe('initial_flip');
    await expect.poll(() => phase(guest), { timeout: 15_000 }).toBe('initial_flip');
    expect(await page.evaluate(() => [...document.querySelectorAll('[data-testid="opponent"] .name')].map((e) => e.textContent))).toEqual(before);
    expect(await page.locator('[data-testid="round"]').textContent()).toContain('Hole 1 of 2');
    expect(await guest.locator('[data-testid="my-card"]').count()).toBe(6);
    // Options kept: Jokers are still in play.
    expect(await page.locator('.chip', { hasText: 'Jokers' }).count()).toBe(1);
    expect(await guest.locator('.chip', { hasText: 'Jokers' }).count()).toBe(1);
    await axe(page, 'play again');
    await shots(page, '12-play-again');
    await page.context().close();
    await guest.context().close();
  }, 240_000);

  it('"Copy" says Copied only when the link reached the clipboard; otherwise it selects the link for the person to copy', async () => {
    for (const clipboard of [true, false]) {
      const context = await fx.browser.newContext({ viewport: PHONE, bypassCSP: true });
      if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.url().replace(/\/$/, '') });
      // A browser without the Clipboard API (an insecure origin, an old WebView).
      else await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined }));
      const page = await context.newPage();
      await createRoom(page, clipboard ? 'Clip' : 'NoClip', 1);
      const link = await page.inputValue('#invite-link');
      await page.click('[data-key="copy"]');
      await page.waitForSelector('[data-testid="copy-note"]');
      if (clipboard) {
        expect(await page.locator('[data-key="copy"]').textContent()).toContain('Copied');
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
      } else {
        expect(await page.locator('[data-key="copy"]').textContent()).not.toContain('Copied');
        expect(await page.locator('[data-testid="copy-note"]').textContent()).toContain('not available');
        await axe(page, 'lobby, copying not available');
        expect(await page.evaluate(() => [document.activeElement?.id, window.getSelection()?.toString() || (document.activeElement as HTMLInputElement).value.slice((document.activeElement as HTMLInputElement).selectionStart!, (document.activeElement as HTMLInputElement).selectionEnd!)])).toEqual(['invite-link', link]);
      }
      await context.close();
    }
  }, 60_000);

  it('a phone at a full table (five opponents) shows your whole grid without scrolling', async () => {
    const page = await newPage(PHONE);
    await createRoom(page, 'Crowded', 1);
    for (let i = 0; i < 5; i++) {
      await page.click('[data-testid="add-cpu"]');
      await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(i + 2);
    }
    await page.click('[data-testid="start"]');
    await page.waitForSelector('[data-testid="my-card"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    await inViewport(page, '[data-testid="my-hand"] .grid');
    await noSidewaysScroll(page, 'a full table on a phone');
    await axe(page, 'a full table');
    // Two decks' backs: each its own muted pattern, none looking like the yellow "press me".
    await shots(page, '14-full-table');
    await page.context().close();
  }, 60_000);

  it('while reconnecting nothing can be played, under an overlay banner; the moves come back after', async () => {
    const page = await newPage();
    await createRoom(page, 'Patient', 1);
    await page.click('[data-testid="add-cpu"]');
    await expect.poll(() => page.locator('[data-testid="lobby-player"]').count()).toBe(2);
    await page.click('[data-testid="start"]');
    await playThroughUi(page, async () => (await must(page)) === 'draw');
    const upBefore = await page.locator('[data-face="up"]').count();
    const top = await page.locator('main').boundingBox();
    fx.node.child.kill('SIGKILL');
    await fx.node.exited;
    await page.waitForSelector('#banner:not([hidden])');
    // The banner floats: the page did not move down.
    expect((await page.locator('main').boundingBox())!.y).toBe(top!.y);
    expect(await page.getAttribute('[data-testid="deck"]', 'aria-disabled')).toBe('true');
    // Leaving too: the server would not hear it, and the seat would stay, played by a CPU.
    expect(await page.getAttribute('[data-testid="leave"]', 'aria-disabled')).toBe('true');
    expect(await page.locator('[data-action]').filter({ has: page.locator('xpath=self::*[contains(@class,"card")]') }).count()).toBe(0);
    // A press does nothing now, and nothing is queued to happen later.
    await page.click('[data-testid="deck"]', { force: true });
    await axe(page, 'reconnecting');
    await shots(page, '13-reconnecting');
    await fx.respawn();
    await page.waitForSelector('#banner[hidden]', { state: 'attached', timeout: 30_000 });
    await expect.poll(() => must(page), { timeout: 30_000 }).toBe('draw');
    await page.waitForTimeout(500);
    expect(await must(page)).toBe('draw');
    expect(await page.locator('[data-face="up"]').count()).toBe(upBefore);
    expect(await page.getAttribute('[data-testid="deck"]', 'data-action')).toBe('draw-deck');
    await page.context().close();
  }, 120_000);
});
