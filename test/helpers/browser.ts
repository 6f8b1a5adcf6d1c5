// Debian's Chromium driven by playwright-core against a real vault server serving the
// built console. Every page's console messages, uncaught errors, failed requests and HTTP
// error answers are recorded, so a test can assert the browser log is clean.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { TestVault } from './vault.ts';

const PROJECT = resolve(import.meta.dirname, '../..');
const SCREENSHOTS = join(PROJECT, 'test/screenshots');
const CHROMIUM = process.env.OFFSITE_CHROMIUM ?? '/usr/bin/chromium';

type T = { after: (fn: () => Promise<void>) => void };

/** Builds web/dist when it is missing (`npm test` builds it before the tests run). */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(PROJECT, 'web/dist/index.html'))) return;
  const vite = join(PROJECT, 'node_modules/vite/bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', 'web', '--logLevel', 'warn'], {
    cwd: PROJECT,
    stdio: 'inherit',
  });
}

export interface BrowserLog {
  /** Console errors and warnings, uncaught exceptions, failed requests, HTTP answers ≥ 400. */
  problems: string[];
}

export interface ConsoleBrowser {
  browser: Browser;
  /** A fresh context (own cookies) with its own page. */
  open: () => Promise<{ context: BrowserContext; page: Page; log: BrowserLog }>;
}

function watch(page: Page, log: BrowserLog): void {
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const where = m.location().url ? ` (${m.location().url.replace(/^https:\/\/[^/]+/, '')})` : '';
    log.problems.push(`console ${m.type()}: ${m.text()}${where}`);
  });
  page.on('pageerror', (err) => log.problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => {
    // A download's navigation is handed over to the download manager, not failed.
    if (!r.url().startsWith('blob:')) log.problems.push(`request failed: ${r.method()} ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400)
      log.problems.push(`HTTP ${r.status()}: ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
}

export async function startBrowser(t: T): Promise<ConsoleBrowser> {
  ensureConsoleBuilt();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  return {
    browser,
    open: async () => {
      const context = await browser.newContext({
        ignoreHTTPSErrors: true,
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
      });
      const page = await context.newPage();
      const log: BrowserLog = { problems: [] };
      watch(page, log);
      return { context, page, log };
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Signs in with the server's one-time link and waits for the dashboard. */
export async function loginByLink(page: Page, v: TestVault): Promise<void> {
  await page.goto(v.server.loginUrl);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

export async function loginByPassword(
  page: Page,
  v: TestVault,
  name: string,
  password: string,
): Promise<void> {
  await page.goto(v.server.url);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Creates a user through the API as the admin; the password is long enough for the rules. */
export async function createUser(v: TestVault, name: string, role: string): Promise<string> {
  const password = `${name} password long enough`;
  const r = await v.call('/v1/users', { method: 'POST', body: JSON.stringify({ name, password, role }) });
  assert.equal(r.status, 201, r.text);
  return password;
}

export function assertCleanLog(log: BrowserLog, allowed: readonly RegExp[] = []): void {
  const left = log.problems.filter((p) => !allowed.some((re) => re.test(p)));
  assert.deepEqual(left, [], 'the browser log has no errors, warnings or failed requests');
}

/** Marks the window, so a test can prove later that the page was never reloaded. */
export async function markWindow(page: Page): Promise<void> {
  await page.evaluate('window.__offsiteNoReload = true');
}

export async function windowStillMarked(page: Page): Promise<boolean> {
  return (await page.evaluate('window.__offsiteNoReload === true')) === true;
}
