// The emulator's iframe host in a real browser: a tiny app page running the official SDK's frame
// bootstrap (initializeB24Frame) is embedded by /_emulator/frame exactly as a Bitrix24 portal embeds it —
// form-POST into <iframe name="DOMAIN|PROTOCOL|APP_SID">, then the BX24 postMessage protocol.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameHostState } from '../../src/emulator/iframe-host.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(
    `[iframe-host.test] ${CHROMIUM} not found: the browser tests are SKIPPED (install Debian's chromium to run them)`,
  );
}

const FIXTURE = fileURLToPath(new URL('../fixtures/frame-page/', import.meta.url));

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ limits: 'off' });
  emu.emulator.portal.data
    .table('user')
    .insert({ ID: 1, ACTIVE: true, NAME: 'Anna', LAST_NAME: 'Admin', IS_ADMIN: true });
  emu.emulator.portal.data
    .table('user')
    .insert({ ID: 2, ACTIVE: true, NAME: 'Boris', LAST_NAME: 'Doctor', IS_ADMIN: false });
});

afterAll(async () => {
  await emu?.close();
});

async function profile(token: string): Promise<{ ID: string; ADMIN: boolean }> {
  const res = await fetch(`${emu.url}/rest/profile?auth=${encodeURIComponent(token)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { ID: string; ADMIN: boolean } }).result;
}

function frameUrl(query: Record<string, string>): string {
  return `${emu.url}/_emulator/frame?${new URLSearchParams(query).toString()}`;
}

describe('iframe host routes', () => {
  it('refuses apps that are not installed, unknown users and bad options', async () => {
    const unknown = await fetch(frameUrl({ clientId: 'local.nope.1' }));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/local\.nope\.1.*not installed/);

    const inst = await emu.emulator.installApp({ handlerUrl: 'http://127.0.0.1:9/app/' });
    expect((await fetch(frameUrl({ clientId: inst.clientId, userId: '77' }))).status).toBe(404);
    expect((await fetch(frameUrl({ clientId: inst.clientId, options: '[1]' }))).status).toBe(400);
    const pending = await emu.emulator.installApp({ handlerUrl: 'http://127.0.0.1:9/app/', withUi: true });
    const nonAdmin = await fetch(frameUrl({ clientId: pending.clientId, userId: '2' }));
    expect(nonAdmin.status).toBe(403); // only an admin can open an app whose installation is unfinished
    const noSid = await fetch(`${emu.url}/_emulator/frame/ajax`, {
      method: 'POST',
      body: JSON.stringify({ sid: 'x', action: 'access_refresh' }),
    });
    expect(noSid.status).toBe(404);
  });

  it('renders the iframe named DOMAIN|PROTOCOL|APP_SID and the POST form', async () => {
    const inst = await emu.emulator.installApp({ handlerUrl: 'http://127.0.0.1:9/app/?x=1' });
    const res = await fetch(
      frameUrl({
        clientId: inst.clientId,
        lang: 'en',
        placement: 'CRM_DEAL_DETAIL_TAB',
        url: 'http://127.0.0.1:9/tab/',
        options: '{"ID":"15"}',
      }),
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    const sid = [...frameHostState(emu.emulator).sessions.values()].at(-1)!.sid;
    const domain = emu.emulator.portal.domain;
    expect(html).toContain(`name="${domain}|0|${sid}"`);
    expect(html).toContain(`target="${domain}|0|${sid}"`);
    expect(html).toContain(
      `action="http://127.0.0.1:9/tab/?DOMAIN=${encodeURIComponent(domain)}&amp;PROTOCOL=0&amp;LANG=en&amp;APP_SID=${sid}"`,
    );
    expect(html).toContain(`name="member_id" value="${emu.emulator.portal.memberId}"`);
    expect(html).toContain('name="PLACEMENT" value="CRM_DEAL_DETAIL_TAB"');
    expect(html).toContain('name="PLACEMENT_OPTIONS" value="{&quot;ID&quot;:&quot;15&quot;}"');
  });
});

describe.skipIf(!HAS_CHROMIUM)('iframe host in a real browser (Debian chromium)', () => {
  interface Hit {
    method: string;
    query: Record<string, string>;
    body: Record<string, string>;
  }
  const hits: Hit[] = [];
  let appServer: FastifyInstance;
  let appUrl: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    const bundled = await build({
      entryPoints: [`${FIXTURE}entry.ts`],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const bundle = bundled.outputFiles[0]!.text;
    const html = await readFile(`${FIXTURE}index.html`, 'utf8');

    appServer = Fastify({ logger: false });
    appServer.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );
    const page = async (req: FastifyRequest, reply: FastifyReply) => {
      hits.push({
        method: req.method,
        query: Object.fromEntries(new URL(req.url, 'http://app').searchParams),
        body: Object.fromEntries(new URLSearchParams(typeof req.body === 'string' ? req.body : '')),
      });
      return reply.type('text/html; charset=utf-8').send(html);
    };
    appServer.get('/', page);
    appServer.post('/', page);
    appServer.get('/bundle.js', async (_req, reply) =>
      reply.type('text/javascript; charset=utf-8').send(bundle),
    );
    appUrl = await appServer.listen({ port: 0, host: '127.0.0.1' });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await appServer?.close();
  });

  async function appFrame(page: Page): Promise<Frame> {
    const handle = await page.waitForSelector('#b24-app-frame');
    const frame = await handle.contentFrame();
    if (!frame) throw new Error('no content frame');
    await frame.waitForURL((u) => u.origin === new URL(appUrl).origin);
    return frame;
  }

  async function frameResult(frame: Frame): Promise<any> {
    await frame.waitForFunction(() => (window as any).__result !== undefined, null, { timeout: 10_000 });
    return frame.evaluate(() => (window as any).__result);
  }

  async function openHost(query: Record<string, string>): Promise<{ page: Page; frame: Frame; result: any }> {
    const page = await context.newPage();
    const res = await page.goto(frameUrl(query));
    expect(res?.status()).toBe(200);
    const frame = await appFrame(page);
    return { page, frame, result: await frameResult(frame) };
  }

  const hostLog = (page: Page): Promise<{ command: string; params: any }[]> =>
    page.evaluate(() => (window as any).__b24host.log);

  it('embeds the app as a portal does: the SDK gets working tokens, portal context and placement', async () => {
    const inst = await emu.emulator.installApp({ handlerUrl: `${appUrl}/` });
    const options = { ID: '15', URI: '/crm/deal/details/15/' };
    const { page, frame, result } = await openHost({
      clientId: inst.clientId,
      userId: '1',
      placement: 'DEFAULT',
      options: JSON.stringify(options),
      lang: 'ru',
    });
    const portal = emu.emulator.portal;

    expect(result.ok).toBe(true);
    expect(await profile(result.auth.access_token)).toMatchObject({ ID: '1', ADMIN: true });
    expect(result.auth.member_id).toBe(portal.memberId);
    expect(result.auth.domain).toBe(`http://${portal.domain}`);
    expect(result.auth.expires_in).toBe(3600);
    expect(result.lang).toBe('ru');
    expect(result.placement).toBe('DEFAULT');
    expect(result.options).toEqual(options);
    expect(result.isAdmin).toBe(true);
    expect(result.isInstallMode).toBe(false);
    expect(await frame.evaluate(() => window.name)).toBe(`${portal.domain}|0|${result.appSid}`);

    // What the app server received: the §5.2 POST.
    const post = hits.filter((h) => h.method === 'POST').at(-1)!;
    expect(post.query).toMatchObject({
      DOMAIN: portal.domain,
      PROTOCOL: '0',
      LANG: 'ru',
      APP_SID: result.appSid,
    });
    expect(post.body).toMatchObject({
      AUTH_ID: result.auth.access_token,
      REFRESH_ID: result.auth.refresh_token,
      AUTH_EXPIRES: '3600',
      SERVER_ENDPOINT: `${emu.url}/rest/`,
      APPLICATION_TOKEN: inst.applicationToken,
      member_id: portal.memberId,
      status: 'L',
      PLACEMENT: 'DEFAULT',
    });
    expect(JSON.parse(post.body.PLACEMENT_OPTIONS!)).toEqual(options);

    // The host answered getInitData and fitWindow's resizeWindow, and resized the layout.
    const log = await hostLog(page);
    const commands = log.map((e) => e.command);
    expect(commands).toContain('getInitData');
    expect(commands).toContain('resizeWindow');
    expect(commands).toContain('setInstall'); // FIRST_RUN for this user
    const size = await page.evaluate(() => (window as any).__b24host.size);
    expect(size.requested.width).toBe('100%');
    expect(size.height).toBe(log.find((e) => e.command === 'resizeWindow')!.params.height);
    expect(result.fit).toEqual({ width: size.width, height: size.height });
    await page.close();
  });

  // $b24.actions.* from the frame is a cross-origin JSON POST: the browser sends a CORS preflight first.
  it('REST calls through the SDK work from inside the frame', async () => {
    const inst = await emu.emulator.installApp({ handlerUrl: `${appUrl}/` });
    const { page, frame } = await openHost({ clientId: inst.clientId, userId: '1' });
    const data = await frame.evaluate(() => (window as any).__call('profile'));
    expect(data.result).toMatchObject({ ID: '1', ADMIN: true, TIME_ZONE: 'Europe/Moscow' });
    await page.close();
  });

  it('refreshAuth gets a fresh working token from the host', async () => {
    const inst = await emu.emulator.installApp({ handlerUrl: `${appUrl}/` });
    const { page, frame, result } = await openHost({ clientId: inst.clientId, userId: '2' });
    expect(result.isAdmin).toBe(false);
    const fresh = await frame.evaluate(() => (window as any).__refresh());
    expect(fresh.access_token).not.toBe(result.auth.access_token);
    expect(fresh.refresh_token).not.toBe(result.auth.refresh_token);
    expect(await profile(fresh.access_token)).toMatchObject({ ID: '2', ADMIN: false });
    expect((await hostLog(page)).map((e) => e.command)).toContain('refreshAuth');
    expect(frameHostState(emu.emulator).sessions.get(result.appSid)!.refreshes).toBe(1);
    await page.close();
  });

  it('install mode: installFinish marks the app installed and the portal page reloads into normal mode', async () => {
    const inst = await emu.emulator.installApp({ handlerUrl: `${appUrl}/`, withUi: true });
    const app = emu.emulator.portal.appByClientId(inst.clientId)!;
    expect(app.installed).toBe(false);
    const page = await context.newPage();
    // The test page calls installFinish() as soon as it sees install mode, so the host reloads at once.
    await page.goto(frameUrl({ clientId: inst.clientId, userId: '1', install: '1' }));
    await page.waitForURL(/install_finished=Y/);
    expect(app.installed).toBe(true);
    expect(new URL(page.url()).searchParams.has('install')).toBe(false);
    const [first, second] = [...frameHostState(emu.emulator).sessions.values()].filter(
      (s) => s.clientId === inst.clientId,
    );
    expect(first).toMatchObject({ install: true, installFinished: 'Y' });

    const again = await frameResult(await appFrame(page));
    expect(again.ok).toBe(true);
    expect(again.appSid).toBe(second!.sid);
    expect(again.isInstallMode).toBe(false);
    expect(again.isFirstRun).toBe(false); // setInstall was stored on the first run
    expect(await profile(again.auth.access_token)).toMatchObject({ ID: '1' });
    await page.close();
  });

  it('answers sliders when the user closes them and ignores messages with a foreign origin or APP_SID', async () => {
    const inst = await emu.emulator.installApp({ handlerUrl: `${appUrl}/` });
    const { page, frame } = await openHost({ clientId: inst.clientId });
    await frame.evaluate(() => {
      const w = window as any;
      w.__slider = w.__b24.slider.openPath(w.__b24.slider.getUrl('/crm/deal/details/15/'));
      void w.__b24.parent.setTitle('Clinic analytics');
    });
    await page.waitForFunction(
      () => (window as any).__b24host.sliders.length === 1 && (window as any).__b24host.title !== null,
    );
    const slider = await page.evaluate(() => (window as any).__b24host.sliders[0]);
    expect(slider.command).toBe('openPath');
    expect(slider.path).toContain('/crm/deal/details/15/');
    expect(await page.textContent('#pagetitle')).toBe('Clinic analytics');
    expect(await page.evaluate(() => (window as any).__b24host.closeSlider())).toBe(true);
    expect(await frame.evaluate(() => (window as any).__slider)).toEqual({
      isOpenAtNewWindow: false,
      isClose: true,
    });

    const before = (await hostLog(page)).length;
    await frame.evaluate(() => parent.postMessage('getInitData:cb1:0123456789abcdef', '*'));
    await page.evaluate(() => window.postMessage(`getInitData:cb2:${(window as any).__b24host.sid}`, '*'));
    await page.waitForFunction(() => (window as any).__b24host.rejected.length >= 2);
    const reasons = await page.evaluate(() => (window as any).__b24host.rejected.map((r: any) => r.reason));
    expect(reasons).toEqual(expect.arrayContaining(['APP_SID', 'origin']));
    expect((await hostLog(page)).length).toBe(before);
    await page.close();
  });

  it('opened directly (not inside a portal) the SDK refuses with JSSDK_CLIENT_SIDE_WARNING', async () => {
    const page = await context.newPage();
    await page.goto(`${appUrl}/`);
    await page.waitForFunction(() => (window as any).__result !== undefined);
    const result = await page.evaluate(() => (window as any).__result);
    expect(result).toMatchObject({ ok: false, code: 'JSSDK_CLIENT_SIDE_WARNING' });
    await page.close();
  });
});
