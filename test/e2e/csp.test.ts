/**
 * The built web client under the node's Content-Security-Policy: the page loads, connects
 * and plays without a single violation, and refuses to be framed.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ROOT } from '../../scripts/lib/node-process.js';
import { cleanup, startTestNode, testConfig } from '../support/node.js';
import { launch } from './browser.js';

let node: Awaited<ReturnType<typeof startTestNode>>;
let browser: Browser;

beforeAll(async () => {
  execFileSync('npm', ['run', '-s', 'build:web'], { cwd: ROOT, stdio: 'pipe' });
  node = await startTestNode(testConfig({ RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '40' }));
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.drain();
  if (node) await cleanup(node.config);
});

describe('the web client under its Content-Security-Policy', () => {
  it('loads, connects and creates a room with no violation; no source map is published', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        (window as unknown as { violations: string[] }).violations ??= [];
        (window as unknown as { violations: string[] }).violations.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    const response = await page.goto(`http://127.0.0.1:${node.port}/`);
    expect(response?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    await page.fill('#name', 'Csp');
    await page.click('[data-testid="create"]');
    const code = await page.locator('[data-testid="room-code"]').textContent();
    expect(code).toMatch(/^[A-Z]{4}$/);
    // The stylesheet applied (a blocked one would leave the banner visible and unstyled).
    expect(await page.evaluate(() => document.styleSheets.length)).toBeGreaterThan(0);
    violations.push(...(await page.evaluate(() => (window as unknown as { violations?: string[] }).violations ?? [])));
    expect(violations).toEqual([]);
    const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src));
    for (const src of scripts) {
      const js = await (await fetch(src)).text();
      expect(js).not.toMatch(/sourceMappingURL/);
      expect((await fetch(`${src}.map`)).status).toBe(404);
    }
    await page.close();
  });

  it('cannot be framed by another page', async () => {
    const page = await browser.newPage();
    await page.setContent(`<iframe id="f" src="http://127.0.0.1:${node.port}/"></iframe>`);
    await page.waitForTimeout(1000);
    const frame = page.frames().find((f) => f.url().includes(String(node.port)));
    // Chromium replaces a refused frame's document with an error page of its own (no #app).
    const hasApp = frame ? await frame.evaluate(() => !!document.getElementById('app')).catch(() => false) : false;
    expect(hasApp).toBe(false);
    await page.close();
  });
});
