/**
 * What a page looks like to a person, measured in Chromium: an element fully in view, nothing
 * sticking out sideways, and a focus ring that can be seen (read from the pixels, since a ring
 * painted under its neighbours is in the style sheet but not on the screen).
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** The page does not scroll sideways, and no element sticks out past its right edge (which `overflow-x: hidden` on the body would only hide). */
export async function noSidewaysScroll(page: Page, where: string): Promise<void> {
  const found = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // Elements inside a container that scrolls or clips by design (the results table) are that container's business.
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== 'visible' || s.position === 'fixed') return true;
      }
      return false;
    };
    const out = [...document.querySelectorAll('#app *, #banner')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && (r.right > width + 0.5 || r.left < -0.5) && !clipped(el);
      })
      .map((el) => `${el.tagName.toLowerCase()}.${String((el as HTMLElement).className?.toString()).trim().replace(/\s+/g, '.')} [${Math.round(el.getBoundingClientRect().left)}, ${Math.round(el.getBoundingClientRect().right)}]`);
    return { scroll: document.documentElement.scrollWidth, client: width, out: out.slice(0, 5) };
  });
  expect(found.scroll, `horizontal scroll on ${where}`).toBeLessThanOrEqual(found.client);
  expect(found.out, `elements past the edge on ${where}`).toEqual([]);
}

export async function inViewport(page: Page, selector: string): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(box.y, `${selector} top`).toBeGreaterThanOrEqual(0);
  expect(box.x, `${selector} left`).toBeGreaterThanOrEqual(0);
  expect(box.y + box.height, `${selector} bottom`).toBeLessThanOrEqual(viewport.height + 0.5);
  expect(box.x + box.width, `${selector} right`).toBeLessThanOrEqual(viewport.width + 0.5);
}

/**
 * The focused element's ring, read from a screenshot: on each of its four sides, the line 5 px
 * outside its box (inside the ring: 4 px out, 4 px wide) must be mostly the ring's white (not a neighbour's edge, glow or selection).
 * Returns the share of white pixels per side (top, right, bottom, left).
 */
export async function focusRing(page: Page): Promise<number[]> {
  const box = await page.evaluate(() => {
    const r = document.activeElement!.getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  });
  const pad = 10;
  const clip = { x: Math.max(0, box.x - pad), y: Math.max(0, box.y - pad), width: box.width + 2 * pad, height: box.height + 2 * pad };
  const png = (await page.screenshot({ clip, scale: 'css', animations: 'disabled' })).toString('base64');
  return page.evaluate(
    async ({ png, box, clip }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${png}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const white = (x: number, y: number) => {
        const [r, g, b] = ctx.getImageData(Math.round(x - clip.x), Math.round(y - clip.y), 1, 1).data;
        return r! > 240 && g! > 240 && b! > 240;
      };
      const d = 5;
      const share = (points: Array<[number, number]>) => points.filter(([x, y]) => white(x, y)).length / points.length;
      // The straight part of each side (the corners are rounded).
      const xs = Array.from({ length: 20 }, (_, i) => box.x + 10 + ((box.width - 20) * i) / 19);
      const ys = Array.from({ length: 20 }, (_, i) => box.y + 10 + ((box.height - 20) * i) / 19);
      return [
        share(xs.map((x) => [x, box.y - d])),
        share(ys.map((y) => [box.x + box.width + d, y])),
        share(xs.map((x) => [x, box.y + box.height + d])),
        share(ys.map((y) => [box.x - d, y])),
      ];
    },
    { png, box, clip },
  );
}

export async function expectFocusRing(page: Page, where: string): Promise<void> {
  const sides = await focusRing(page);
  expect(Math.min(...sides), `focus ring on ${where} (top, right, bottom, left white: ${sides.join(', ')})`).toBeGreaterThanOrEqual(0.8);
}

/** Everything a finger presses is at least 44 px tall and wide (a checkbox: its label, which toggles it). */
export async function tapTargetsBigEnough(page: Page, where: string): Promise<void> {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#app button, #app select, #app input:not([type="checkbox"]), #app summary, #app a, #app label.rule')]
      .filter((el) => !el.classList.contains('sr-only'))
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width > 0 && (r.height < 43.5 || r.width < 43.5))
      .map(({ el, r }) => `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`),
  );
  expect(small, `tap targets under 44 px on ${where}`).toEqual([]);
}
