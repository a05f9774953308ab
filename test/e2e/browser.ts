import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { ROOT, spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import { cleanup, processEnv, testConfig } from '../support/node.js';
import { freePort } from '../support/throwaway.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

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
      } else if (phase === 'round_over' && !(await until()) && (await page.locator('[data-testid="next-round"]').count()) > 0) {
        // (`until` asked again: the round may have ended since it was last asked, and a caller
        // waiting for the results must not have them clicked away.)
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
  // Where it stuck, in words: what the page asked for and said.
  const where = await page.evaluate(() => `must=${document.body.dataset.must} phase=${document.body.dataset.phase} connection=${document.body.dataset.connection}; status "${document.querySelector('[data-testid="status"]')?.textContent}"; error "${document.querySelector('[data-testid="error"]')?.textContent ?? ''}"`);
  throw new Error(`the game did not reach the wanted point through the UI (${where})`);
}

export { frontProxy } from '../../scripts/lib/proxy.js';

/**
 * axe-core on the page as it is: every violation, with where it is, fails the test. The page's
 * context must bypass the CSP (the node's allows only its own scripts) for axe to be injected.
 */
export async function axe(page: Page, screen: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    // axe cannot read contrast against the felt's gradient (it leaves such text "to review"):
    // for its run the page's background is the gradient's lightest green, the worst case for
    // the light text on it, so that every text's contrast is checked.
    const root = document.documentElement;
    const before = root.style.background;
    root.style.background = '#166534';
    try {
      const result = await (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe.run();
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
    } finally {
      root.style.background = before;
    }
  });
  expect(violations, `axe on ${screen}`).toEqual([]);
}

/**
 * One node process and one Chromium for a browser test file: started before its tests (with the
 * web client built), stopped and cleaned up after. `respawn()` starts the node again on the same
 * port and schema, for tests that kill it.
 */
export function browserNode(env: Record<string, string>) {
  const fx = {
    config: testConfig(),
    port: 0,
    node: null as unknown as NodeProcess,
    browser: null as unknown as Browser,
    url: () => `http://127.0.0.1:${fx.port}/`,
    env: () => processEnv(fx.config, fx.port, env),
    async respawn(): Promise<void> {
      fx.node = await spawnNode(fx.env());
    },
  };
  beforeAll(async () => {
    execFileSync('npm', ['run', '-s', 'build:web'], { cwd: ROOT, stdio: 'pipe' });
    fx.port = await freePort();
    await fx.respawn();
    fx.browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await fx.browser?.close();
    if (fx.node && fx.node.child.exitCode === null) {
      fx.node.child.kill('SIGTERM');
      await fx.node.exited;
    }
    await cleanup(fx.config);
  });
  return fx;
}
