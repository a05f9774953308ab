/**
 * Playing a seat by keyboard alone in Chromium, as a person would: Tab to the control, then
 * Enter or Space; counting the times focus fell to the page and the presses that changed nothing.
 */
import type { Page } from 'playwright-core';

const phase = (page: Page) => page.evaluate(() => document.body.dataset.phase);
const must = (page: Page) => page.evaluate(() => document.body.dataset.must);

/** Presses Tab until the element matching `selector` has focus. */
export async function tabTo(page: Page, selector: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** The data-key of the first element matching `selector`, or null. */
const keyOf = (page: Page, selector: string) => page.evaluate((sel) => document.querySelector<HTMLElement>(sel)?.dataset.key ?? null, selector);

/**
 * Plays this page's seat by keyboard alone (Tab to the card, Enter or Space) until `until`.
 * Counts the times focus fell to the page body after an update (it must never).
 */
export async function playByKeyboard(page: Page, until: () => Promise<boolean>, timeoutMs = 120_000): Promise<{ moves: number; focusLost: number; swallowed: number }> {
  const deadline = Date.now() + timeoutMs;
  let moves = 0;
  let focusLost = 0;
  // Presses of a control that could be pressed which changed nothing within 10 s (a swallowed key).
  let swallowed = 0;
  while (Date.now() < deadline) {
    if (await until()) return { moves, focusLost, swallowed };
    const now = await must(page);
    let target: string | null = null;
    if (now === 'flip_initial' || now === 'flip' || now === 'flip_or_skip') target = '[data-testid="my-card"][data-face="down"][data-action="flip"]:not(.selected)';
    else if (now === 'draw') target = '[data-testid="deck"][data-action]';
    else if (now === 'place' || now === 'swap') {
      target = (await keyOf(page, '[data-testid="my-card"][data-face="down"][data-action="swap"]')) ? '[data-testid="my-card"][data-face="down"][data-action="swap"]' : '[data-testid="my-card"][data-action="swap"]';
    } else if ((await phase(page)) === 'round_over' && (await keyOf(page, '[data-testid="next-round"]'))) target = '[data-testid="next-round"]';
    const key = target ? await keyOf(page, target) : null;
    if (!key) {
      await page.waitForTimeout(40);
      continue;
    }
    try {
      await tabTo(page, `[data-key="${key}"]`);
    } catch {
      continue; // the page moved on while tabbing: look again
    }
    // Still what it was a moment ago? (A CPU's move may have changed what can be pressed.)
    if (!(await page.evaluate((k) => document.querySelector(`[data-key="${k}"]`)?.hasAttribute('data-action') ?? false, key))) continue;
    // What a press changes: what the page asks for, the cards face up, the cards chosen to flip.
    const signature = () => document.body.dataset.must + '|' + document.querySelectorAll('[data-face="up"]').length + '|' + document.querySelectorAll('.card.selected').length;
    const seq = await page.evaluate(signature);
    await page.keyboard.press(moves % 2 ? 'Enter' : ' ');
    moves++;
    const changed = await page
      .waitForFunction((before) => document.body.dataset.must + '|' + document.querySelectorAll('[data-face="up"]').length + '|' + document.querySelectorAll('.card.selected').length !== before, seq, { timeout: 10_000 })
      .then(() => true, () => false);
    if (!changed) {
      swallowed++;
      process.stdout.write(`a press of ${key} (${now}) changed nothing within 10 s\n`);
    }
    if (await page.evaluate(() => document.activeElement === document.body || document.activeElement === null)) {
      focusLost++;
      process.stdout.write(`focus lost after pressing ${key} (${now}); now ${await must(page)}/${await phase(page)}; still there: ${await page.evaluate((k) => !!document.querySelector(`[data-key="${k}"]`), key)}\n`);
    }
  }
  throw new Error('the game did not reach the wanted point by keyboard');
}
