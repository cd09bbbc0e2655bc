import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { waitFor } from '../../platform/wait.ts';

/** Screenshots land here for people to look at (gitignored). */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-output', 'console');

/** Debian's Chromium, headless; never a downloaded browser. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Waits until the locator's text (whitespace collapsed to single spaces) matches; polls, no fixed
 * sleeps. Returns the matching text.
 */
export async function waitForText(locator: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  let text = '';
  try {
    await waitFor(
      async () => {
        text = (await locator.count()) > 0 ? (await locator.first().innerText()).replace(/\s+/g, ' ').trim() : '(no such element)';
        return pattern.test(text);
      },
      { timeoutMs, what: `text matching ${pattern}`, intervalMs: 100 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last text: ${JSON.stringify(text.slice(0, 400))}`, { cause: error });
  }
  return text;
}

/** Form controls that have no accessible label (label element, aria-label or aria-labelledby). */
export function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
      .filter((control) => {
        const element = control as HTMLInputElement;
        const labelled = (element.labels?.length ?? 0) > 0 && Array.from(element.labels!).some((label) => label.textContent!.trim().length > 0);
        return !labelled && !element.getAttribute('aria-label')?.trim() && !element.getAttribute('aria-labelledby');
      })
      .map((control) => control.outerHTML.slice(0, 160)),
  );
}

/**
 * Visible text whose contrast with its effective background is below WCAG AA (4.5:1, or 3:1 for
 * large text). Backgrounds are resolved up the tree (opaque colours only, as this console uses).
 */
export function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (color: string): [number, number, number, number] => {
      const match = /rgba?\(([^)]+)\)/.exec(color);
      const parts = (match?.[1] ?? '0,0,0,0').split(/[ ,/]+/).filter(Boolean).map(Number);
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const channel = (value: number) => {
        const c = value / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
    };
    const background = (element: Element | null): [number, number, number, number] => {
      for (let node = element; node; node = node.parentElement) {
        const color = parse(getComputedStyle(node).backgroundColor);
        if (color[3] > 0.5) return color;
      }
      return [255, 255, 255, 1];
    };
    const offenders: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!element || seen.has(element) || !node.textContent?.trim()) continue;
      seen.add(element);
      const style = getComputedStyle(element);
      const box = element.getBoundingClientRect();
      if (style.visibility === 'hidden' || style.display === 'none' || box.width === 0 || box.height === 0 || element.closest('[aria-hidden=true], noscript')) continue;
      const fg = parse(style.color);
      const bg = background(element);
      const [light, dark] = [luminance(fg), luminance(bg)].sort((a, b) => b - a) as [number, number];
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      // Disabled controls are exempt from the contrast rule.
      if (ratio < (large ? 3 : 4.5) && !element.closest('[disabled]')) offenders.push(`${ratio.toFixed(2)}:1 "${node.textContent.trim().slice(0, 40)}" (${style.color} on rgb(${bg.slice(0, 3).join(',')}))`);
    }
    return offenders;
  });
}
