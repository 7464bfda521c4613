import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../lib/config.ts';
import type { CreatorsOverview, Overview } from '../../lib/model/overview.ts';
import { ensureIndex } from '../../lib/store/bootstrap.ts';
import { getStoreClient } from '../../lib/store/client.ts';
import { getTask } from '../../lib/store/tasks.ts';
import { uniqueKey } from '../support/amqp.ts';
import { type Offline, startOffline } from '../support/offline.ts';
import { type SeededTask, seedTasks } from '../support/seed.ts';

/**
 * The dashboard and the API reference in a real browser: Debian's chromium, driven by playwright-core, against
 * serverless-offline. Every page load is watched for console errors and for requests that leave the origin
 * (those are aborted and recorded). Screenshots of every screen go to test-results/screenshots.
 *
 * What a read-only key sees is decided by the scopes GET /DANE/auth/me answers, and that logic is unit-tested
 * (test/unit/dashboard.test.ts); the end-to-end read-key run belongs here once the authorizer is wired to the
 * routes (issue 11), with a real key, not a test-only setting.
 */

// An index of this file's own (serverless-offline takes it from the environment): the results it seeds would clash
// with the dynamic mapping other files' results gave the shared test index.
vi.hoisted(() => {
  process.env.DANE_INDEX = `dane-test-browser-${crypto.randomUUID().slice(0, 8)}`;
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const screenshots = join(root, 'test-results/screenshots');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let offline: Offline;
let browser: Browser;
const consoleErrors: string[] = [];
const outside: string[] = [];

const keyA = uniqueKey('WEBA');
const keyR = uniqueKey('WEBR');
const creator = `CR-${randomUUID().slice(0, 8)}`;
const otherCreator = `CO-${randomUUID().slice(0, 8)}`;
let seeded: SeededTask[] = [];
let resetSet: SeededTask[] = [];

/** A page whose session holds `key` (default: the run's admin key), as if typed into the page's key prompt. */
async function openPage(width = 1280, height = 900, key = offline.keys.admin.key): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  await context.addInitScript(`sessionStorage.setItem('dane.apiKey', ${JSON.stringify(key)})`);
  const origin = new URL(offline.baseUrl).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${offline.baseUrl}${path}`, {
    ...init,
    headers: { ...init?.headers, authorization: `Bearer ${offline.keys.admin.key}` },
  });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  await ensureIndex();
  seeded = await seedTasks([
    ...Array.from({ length: 4 }, () => ({ key: keyA, state: 200, creator })),
    { key: keyA, state: 102, creator },
    { key: keyA, state: 502, creator, due: true, lastError: 'upstream timeout' },
    { key: keyA, state: 500, creator, msg: 'Worker crashed', lastError: 'Traceback: KeyError' },
    { key: keyA, state: 500, creator: otherCreator, msg: 'Worker crashed' },
  ]);
  resetSet = await seedTasks([
    { key: keyR, state: 500, creator },
    { key: keyR, state: 500, creator },
    { key: keyR, state: 500, creator },
    { key: keyR, state: 500, creator: otherCreator },
    { key: keyR, state: 503, creator },
  ]);
  // A result to look at in the payload viewer.
  const withResult = seeded[0] as SeededTask;
  await getStoreClient().index({
    index: getConfig().opensearch.index,
    routing: withResult.documentId,
    body: {
      role: { name: 'result', parent: withResult.id },
      created_at: '2026-01-01T00:00:00',
      updated_at: '2026-01-01T00:00:00',
      result: {
        generator: { id: 'g1', name: 'ASR', type: 'Software', homepage: 'https://example.org' },
        payload: { words: ['hallo', 'wereld'], confidence: 0.93 },
      },
    },
    refresh: 'wait_for',
  });
  offline = await startOffline({ emulateEvents: false, env: { SWEEP_ENABLED: 'false' } });
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--headless=new'] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await offline?.stop();
  const indices = [getConfig().opensearch.index, ...(offline ? [offline.keyIndex] : [])];
  await getStoreClient().indices.delete({ index: indices.join(','), ignore_unavailable: true });
});

describe('the dashboard in a browser', () => {
  it('overview: shows for each key and creator the counts the API answers', async () => {
    const page = await openPage();
    await page.goto(`${offline.baseUrl}/DANE/manage#/overview`);
    const row = page.locator(`#keys-table tr[data-key="${keyA}"]`);
    await row.waitFor();
    // The first Tab reaches the skip link: the page is usable from the keyboard.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    const body = await api<Overview>('/DANE/overview');
    const expected = body.keys.find((k) => k.key === keyA);
    expect(expected?.total).toBe(8);
    expect(await row.locator('[data-col="total"]').textContent()).toBe('8');
    for (const [category, count] of Object.entries(expected?.categories ?? {})) {
      expect(await row.locator(`[data-col="${category}"]`).textContent(), category).toBe(String(count));
    }
    // Tasks wait for the key and no queue is bound: the warning says so.
    await expect(page.locator(`[data-warning-key="${keyA}"]`).textContent()).resolves.toContain(keyA);
    const creatorRow = page.locator(`#creators-table tr[data-creator="${creator}"]`);
    const expectedCreator = (await api<CreatorsOverview>('/DANE/overview/creators')).creators.find(
      (c) => c.creator === creator,
    );
    await creatorRow.waitFor();
    expect(await creatorRow.locator('[data-col="total"]').textContent()).toBe(String(expectedCreator?.total));
    expect(await creatorRow.locator('[data-col="done"]').textContent()).toBe(
      String(expectedCreator?.categories.done),
    );
    // Live: an "updated at" time, and a pause button that stops the refresh.
    await expect(page.locator('#updated-at').textContent()).resolves.toMatch(/Updated at \d\d:\d\d:\d\d/);
    await page.click('#pause');
    await expect(page.locator('#pause').getAttribute('aria-pressed')).resolves.toBe('true');
    await shot(page, 'overview');
    await page.context().close();
  });

  it('failed tasks: a task retried from the page changes state', async () => {
    const failed = seeded.find((t) => t.state === 500 && t.creator === creator) as SeededTask;
    const page = await openPage();
    await page.goto(`${offline.baseUrl}/DANE/manage#/failed?key=${keyA}`);
    const row = page.locator(`#tasks-table tr[data-task="${failed.id}"]`);
    await row.waitFor();
    await shot(page, 'failed-tasks');
    await row.locator('button[data-action="retry"]').click();
    await page.locator('#status', { hasText: 'Retry: task' }).waitFor();
    // No worker queue is bound to the key: the retry is published, returned, and the task becomes 422.
    const state = (await getTask(failed.id))?.source.task.state;
    expect(state).toBe(422);
    await page.goto(`${offline.baseUrl}/DANE/manage#/task/${failed.id}`);
    await page.locator('[data-field="state"]', { hasText: '422' }).waitFor();
    await shot(page, 'task');
    await page.context().close();
  });

  it('failed tasks: a read key sees the tasks and no action buttons', async () => {
    const reader = await offline.createKey('reader', ['read']);
    const page = await openPage(1280, 900, reader.key);
    await page.goto(`${offline.baseUrl}/DANE/manage#/failed?key=${keyA}`);
    await page.locator(`#tasks-table tr[data-task]`).first().waitFor();
    expect(await page.locator('#tasks-table button[data-action]').count()).toBe(0);
    expect(await page.locator('button', { hasText: /retry|reset|delete/i }).count()).toBe(0);
    await shot(page, 'failed-tasks-read-key');
    await page.context().close();
  });

  it('failed tasks: a bulk reset by filter shows the count first and affects exactly the matching tasks', async () => {
    const matching = resetSet.filter((t) => t.creator === creator && t.state === 500);
    const page = await openPage();
    await page.goto(`${offline.baseUrl}/DANE/manage#/failed?key=${keyR}`);
    await page.locator('form.filters input[name="key"]').waitFor();
    await page.fill('form.filters input[name="creator"]', creator);
    await page.locator('form.filters input[name="state"][value="503"]').uncheck();
    await page.click('form.filters button[type="submit"]');
    await page.locator('#match-count', { hasText: '3 tasks match' }).waitFor();
    await page.click('#select-all-matching');
    await page.click('button[data-bulk="reset"]');
    const dialog = page.locator('dialog[open]');
    await expect(dialog.locator('#dry-run-count').textContent()).resolves.toContain(
      '3 tasks will be affected',
    );
    await shot(page, 'bulk-confirm');
    await dialog.locator('button.primary').click();
    await page.locator('#status', { hasText: 'Reset: 3 tasks affected' }).waitFor();
    for (const task of resetSet) {
      const expected = matching.includes(task) ? 201 : task.state;
      expect((await getTask(task.id))?.source.task.state, task.id).toBe(expected);
    }
    await page.context().close();
  });

  it('documents: search with wildcards, a document with its tasks and a result payload', async () => {
    const withResult = seeded[0] as SeededTask;
    const page = await openPage();
    await page.goto(`${offline.baseUrl}/DANE/manage#/documents`);
    await page.fill('input[name="creator_id"]', `${creator.slice(0, 5)}*`);
    await page.fill('input[name="target_id"]', `T-${withResult.documentId.slice(0, 6)}*`);
    await page.click('form.filters button[type="submit"]');
    const link = page.locator(`#documents-table tr[data-document="${withResult.documentId}"] a`);
    await link.waitFor();
    await shot(page, 'documents');
    await link.click();
    const card = page.locator(`li.card[data-task="${withResult.id}"]`);
    await card.waitFor();
    await card.locator('button', { hasText: 'Show results' }).click();
    await card.locator('summary').click();
    await expect(card.locator('pre.payload').textContent()).resolves.toContain('"wereld"');
    await shot(page, 'document');
    await page.context().close();
  });

  it('is usable on a narrow screen', async () => {
    const page = await openPage(375, 800);
    await page.goto(`${offline.baseUrl}/DANE/manage#/overview`);
    await page.locator(`#keys-table tr[data-key="${keyA}"]`).waitFor();
    // The page itself does not scroll sideways; wide tables scroll inside their own box.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'overview-narrow');
    await page.context().close();
  });

  it('API reference: Swagger UI over /DANE/openapi.json, with the bearer scheme to authorize', async () => {
    const page = await openPage();
    // A key the dashboard holds in this tab is filled into Swagger UI's "Authorize".
    await page.addInitScript("sessionStorage.setItem('dane.apiKey', 'dane_test_notarealsecret')");
    await page.goto(`${offline.baseUrl}/DANE/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/DANE/overview' }).first().waitFor();
    await page.locator('button.authorize.locked').waitFor();
    await shot(page, 'api-reference');
    await page.context().close();
  });

  it('made no request outside its origin and logged no console error', () => {
    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
