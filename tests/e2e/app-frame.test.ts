// The app in a real browser (Debian chromium), framed by the emulator's portal page exactly as
// Bitrix24 frames it. An admin installs it through the install page (iframe POST → the page calls
// installFinish → the portal reloads), then the dashboard initialises the SDK, opens a session and
// shows the user's name, and its Данные view the portal's sync state; a non-admin sees their own name
// and no admin views; another site may not frame the app.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../frontend/build.mjs';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { startApp, startPortal, waitFor, type AppHarness } from '../fixtures/app-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[app-frame.test] ${CHROMIUM} not found: the browser tests are SKIPPED`);

describe.skipIf(!HAS_CHROMIUM)('the app inside the portal frame (real Chromium)', () => {
  let h: AppHarness;
  let emu: RunningEmulator;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    await buildDashboard({ quiet: true });
    [h, emu] = await Promise.all([startApp('sqlite'), startPortal(51)]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
    await emu?.close();
  });

  async function appFrame(page: Page): Promise<Frame> {
    const handle = await page.waitForSelector('#b24-app-frame');
    const frame = (await handle.contentFrame())!;
    await frame.waitForURL((u) => u.origin === h.url);
    return frame;
  }

  const frameUrl = (q: Record<string, string>) => `${emu.url}/_emulator/frame?${new URLSearchParams({ clientId: h.clientId, lang: 'en', ...q })}`;

  it('an admin installs it in the frame; the portal reloads into the app, which shows the user and the sync state', async () => {
    await emu.emulator.installApp({ clientId: h.clientId, clientSecret: h.clientSecret, handlerUrl: `${h.url}/`, withUi: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(frameUrl({ userId: '1', install: '1', url: `${h.url}/b24/install` }));
    // The install page called installFinish(); the portal marked the app installed and reloaded.
    await page.waitForURL(/install_finished=Y/, { timeout: 20_000 });
    expect(emu.emulator.portal.appByClientId(h.clientId)!.installed).toBe(true);
    const portalId = emu.emulator.portal.memberId;
    expect(await h.app.services.portals.get(portalId)).toMatchObject({ status: 'active' });

    const frame = await appFrame(page);
    await frame.waitForSelector('#status[data-state="ready"]', { state: 'attached', timeout: 20_000 });
    const user = emu.emulator.portal.data.table('user').get(1)!;
    expect(await frame.textContent('#user-name')).toBe(`${user.NAME} ${user.LAST_NAME} (administrator)`);
    expect(await frame.getAttribute('#user-name', 'data-user-id')).toBe('1');
    expect(await frame.textContent('#status')).toBe(emu.emulator.portal.domain);

    // The sync state the page shows is the store's: wait for the first full run to end, reload, compare.
    await h.app.services.settle();
    const run = await h.store.db.selectFrom('sync_run').selectAll().where('portal_id', '=', portalId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect([run.mode, run.status]).toEqual(['full', 'finished']);
    await page.goto(frameUrl({ userId: '1' }));
    const again = await appFrame(page);
    await again.waitForSelector('[data-tab=data]', { timeout: 20_000 });
    await again.click('[data-tab=data]');
    await again.waitForSelector('#runs table', { timeout: 20_000 });
    expect(await again.getAttribute('#sync-state', 'data-state')).toBe('finished');
    expect(await again.getAttribute('#sync-state', 'data-auth')).toBe('ok');
    expect((await again.textContent('#sync-state'))!.replace(/\s+/g, ' ').trim()).toMatch(/^No sync running · data as of .+ · Portal access: ok$/);
    expect(await again.textContent('#runs tbody tr:first-child td:first-child')).toBe(String(run.id));
    // The portal page was asked to fit the frame, and the app's CSP let the portal frame it.
    const log = (await page.evaluate(() => (window as any).__b24host.log)) as { command: string }[];
    expect(log.map((e) => e.command)).toEqual(expect.arrayContaining(['getInitData', 'resizeWindow']));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a user who is not an admin opens the CRM analytics placement and sees their own name and no admin views', async () => {
    const doctor = [...emu.emulator.portal.data.tables.user.all()].find((u) => u.IS_ADMIN !== true && u.ACTIVE !== false)!;
    const page = await context.newPage();
    // No url: the portal opens the handler the install bound to the placement.
    await page.goto(frameUrl({ userId: String(doctor.ID), placement: 'CRM_ANALYTICS_MENU' }));
    const frame = await appFrame(page);
    expect(new URL(frame.url()).pathname).toBe('/placement/crm-analytics');
    await frame.waitForSelector('#status[data-state="ready"]', { state: 'attached', timeout: 20_000 });
    expect(await frame.textContent('#user-name')).toBe(`${doctor.NAME} ${doctor.LAST_NAME}`);
    await frame.waitForSelector('[data-tab=overview]');
    expect(await frame.$$('[data-tab=data], [data-tab=settings]')).toHaveLength(0);
    expect(await frame.getAttribute('[data-freshness]', 'data-state')).toBe('synced');
    await page.close();
  });

  it('opened outside a portal the page says so, and another site cannot frame it', async () => {
    const page = await context.newPage();
    await page.goto(`${h.url}/`);
    await page.waitForSelector('#status[data-state="error"]', { timeout: 20_000 });
    expect(await page.textContent('#status')).toMatch(/^\s*Эта страница открывается внутри Битрикс24/);

    // A page on another origin framing the app: the browser blocks it (frame-ancestors).
    const blocked: string[] = [];
    page.on('console', (m) => blocked.push(m.text()));
    await page.setContent(`<iframe id="f" src="${h.url}/?DOMAIN=${encodeURIComponent(emu.emulator.portal.domain)}"></iframe>`);
    await waitFor('the CSP report', async () => blocked.some((t) => /frame-ancestors/.test(t)));
    await page.close();
  });
});
