// The dashboard in real Chromium, framed by the emulator's portal page exactly as Bitrix24 frames it,
// on a synced tiny clinic: every view renders (screenshots in data/artifacts/dashboard/), the numbers
// on screen equal the API's, the period and doctor filters change them correctly, an XLSX export
// downloads and holds the same numbers, and a service named like an HTML tag stays text.
import { existsSync, mkdirSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../frontend/build.mjs';
import { createFormatter } from '../../frontend/src/lib/format.js';
import { localToday, presetRange, type Range } from '../../frontend/src/lib/period.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { installByEvent, openSession, startApp, startPortal, type AppHarness } from '../fixtures/app-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[dashboard.test] ${CHROMIUM} not found: the browser tests are SKIPPED`);
const SHOTS = 'data/artifacts/dashboard';
const XSS = '<img src=x onerror=alert(1)>';
const fmt = createFormatter('ru-RU', 'нет данных', 'п. п.');

describe.skipIf(!HAS_CHROMIUM)('the dashboard in the portal frame (real Chromium)', () => {
  let h: AppHarness;
  let emu: RunningEmulator;
  let browser: Browser;
  let page: Page;
  let frame: Frame;
  let token: string;
  const dialogs: string[] = [];
  const errors: string[] = [];

  const api = async (path: string) => {
    const res = await fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, path).toBe(200);
    return res.json() as Promise<any>;
  };
  const kpi = (id: string, r: Range, q: Record<string, string> = {}) => api(`/api/v1/kpi/${id}?${new URLSearchParams({ from: r.from, to: r.to, lang: 'ru', ...q })}`);
  const settled = () =>
    frame.waitForFunction(() => {
      const s = (window as any).__panels?.();
      return s && Object.keys(s).length > 0 && Object.values(s).every((x) => x !== 'loading');
    }, null, { timeout: 30_000 });
  const go = async (hash: string) => {
    await frame.evaluate((h) => (location.hash = h), hash);
    await frame.waitForFunction((h) => location.hash === h, hash);
    await frame.waitForTimeout(50);
    await settled();
  };
  const cardValue = async (id: string) => {
    const el = await frame.waitForSelector(`[data-kpi="${id}"] [data-role=value]`);
    return { raw: await el.getAttribute('data-value'), text: (await el.textContent())!.trim() };
  };
  const shot = async (name: string) => {
    // The portal resizes the frame to the content (fitWindow) just after a view settles.
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildDashboard({ quiet: true });
    [h, emu] = await Promise.all([startApp('sqlite'), startPortal(61)]);
    // One service named like markup: the catalog product of the first row, and its rows.
    const tables = emu.emulator.portal.data.tables;
    const rows = [...tables.productrow.all()];
    const productId = rows[0]!.PRODUCT_ID;
    tables.product.update(Number(productId), { NAME: XSS });
    for (const r of rows) if (r.PRODUCT_ID === productId) tables.productrow.update(Number(r.ID), { PRODUCT_NAME: XSS });
    await installByEvent(h, emu);
    await h.app.services.settle();
    token = (await openSession(h, emu, 1)).body.token;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${emu.url}/_emulator/frame?${new URLSearchParams({ clientId: h.clientId, userId: '1', lang: 'ru' })}`);
    const handle = await page.waitForSelector('#b24-app-frame');
    frame = (await handle.contentFrame())!;
    await frame.waitForURL((u) => u.origin === h.url);
    await frame.waitForSelector('#user-name', { timeout: 20_000 });
    await settled();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await emu?.close();
  });

  it('Обзор: every KPI card equals the API, with the change against the previous period and last year', async () => {
    const range = presetRange('last_month', localToday());
    for (const id of ['revenue', 'visits', 'avg_check', 'unique_patients', 'new_patients', 'repeat_patients', 'repeat_share']) {
      const [prev, ly] = await Promise.all([kpi(id, range, { compare: 'previous' }), kpi(id, range, { compare: 'last_year' })]);
      const shown = await cardValue(id);
      expect(shown.raw === '' ? null : Number(shown.raw), id).toBe(prev.total.value);
      expect(shown.text, id).toBe(fmt.value(prev.total.value, prev.kpi.unit));
      expect(await frame.getAttribute(`[data-kpi="${id}"] [data-role=previous]`, 'data-delta')).toBe(String(prev.total.compare.delta ?? ''));
      expect(await frame.getAttribute(`[data-kpi="${id}"] [data-role=last-year]`, 'data-delta')).toBe(String(ly.total.compare.delta ?? ''));
    }
    await frame.waitForSelector('[data-panel="overview.trend"] .apexcharts-canvas');
    expect(await frame.textContent('[data-freshness]')).toMatch(/^данные на .+, синхронизация каждые 10 минут$/);
    await shot('overview');
  });

  it('the page carries the KPI registry (the API’s own answer), and Обзор asked for each of its KPIs once', async () => {
    const html = await (await fetch(`${h.url}/`)).text();
    const block = /<script type="application\/json" id="kpi-registry">(.*?)<\/script>/s.exec(html)?.[1];
    expect(JSON.parse(block!)).toEqual(await api('/api/v1/kpi'));
    // The early requests (sent before the view mounted) were taken by the panels, not sent twice.
    const asked = (await frame.evaluate(`performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/v1/kpi'))`)) as string[];
    const paths = asked.map((n) => { const u = new URL(n); return u.pathname + u.search; });
    expect(paths.filter((p) => p === '/api/v1/kpi')).toEqual([]);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.filter((p) => p.startsWith('/api/v1/kpi/revenue?') && p.includes('by=day'))).toHaveLength(1);
  });

  it('changing the period and the doctor filter changes the numbers to the API’s for that choice', async () => {
    await frame.selectOption('select[name=period]', 'last_12m');
    await settled();
    const year = presetRange('last_12m', localToday());
    const total = await kpi('revenue', year);
    expect(Number((await cardValue('revenue')).raw)).toBe(total.total.value);
    expect(new URL(frame.url()).hash).toContain('period=last_12m');

    const byDoctor = await kpi('revenue', year, { by: 'doctor' });
    const doctor = byDoctor.rows.find((r: any) => r.doctor?.id && r.value > 0).doctor;
    await frame.waitForSelector(`select[name=doctor] option[value="${doctor.id}"]`, { state: 'attached' });
    await frame.selectOption('select[name=doctor]', doctor.id);
    await settled();
    const own = await kpi('revenue', year, { doctor: doctor.id });
    expect(Number((await cardValue('revenue')).raw)).toBe(own.total.value);
    expect(own.total.value).not.toBe(total.total.value);
    const visits = await kpi('visits', year, { doctor: doctor.id });
    expect(Number((await cardValue('visits')).raw)).toBe(visits.total.value);
    await frame.selectOption('select[name=doctor]', '');
    await settled();
  });

  it('Врачи, Направления, Возвращаемость show the API’s rows; a doctor opens their page', async () => {
    const range = presetRange('last_12m', localToday());
    await go('#/doctors?period=last_12m');
    const rev = await kpi('revenue', range, { by: 'doctor' });
    for (const r of rev.rows.filter((x: any) => x.doctor?.id).slice(0, 5)) {
      const cell = await frame.getAttribute(`[data-table=vrachi] tr[data-row="${r.doctor.id}"] td[data-col=revenue]`, 'data-value');
      expect(Number(cell)).toBe(r.value);
    }
    const ret = await kpi('return_rate', range, { by: 'doctor', days: '180', scope: 'clinic' });
    const withRate = ret.rows.find((x: any) => x.doctor?.id && x.value !== null);
    if (withRate) expect(Number(await frame.getAttribute(`[data-table=vrachi] tr[data-row="${withRate.doctor.id}"] td[data-col=returnClinic]`, 'data-value'))).toBe(withRate.value);
    await shot('doctors');
    const first = rev.rows.find((x: any) => x.doctor?.id);
    await frame.click(`[data-table=vrachi] tr[data-row="${first.doctor.id}"]`);
    await frame.waitForFunction((id) => location.hash.startsWith(`#/doctors/${id}`), first.doctor.id);
    await settled();
    expect(await frame.textContent('[data-doctor-name]')).toBe(first.doctor.name);
    expect(Number((await cardValue('revenue')).raw)).toBe(first.value);
    await shot('doctor');

    await go('#/directions?period=last_12m');
    const dir = await kpi('revenue', range, { by: 'direction' });
    for (const r of dir.rows.filter((x: any) => x.direction?.id)) {
      expect(Number(await frame.getAttribute(`[data-table=napravleniya] tr[data-row="${r.direction.id}"] td[data-col=revenue]`, 'data-value'))).toBe(r.value);
    }
    await shot('directions');

    await go('#/retention?period=last_12m&days=90');
    const r90 = await kpi('return_rate', range, { by: 'direction', days: '90', scope: 'clinic' });
    for (const r of r90.rows.filter((x: any) => x.direction?.id)) {
      const row = `[data-table=vozvrat_napravleniya] tr[data-row="${r.direction.id}"]`;
      const v = await frame.getAttribute(`${row} td[data-col=rate]`, 'data-value');
      expect(v === null ? null : Number(v)).toBe(r.value);
      expect(Number(await frame.getAttribute(`${row} td[data-col=censored]`, 'data-value'))).toBe(r.detail.censored);
    }
    const cohorts = await kpi('return_cohort', range, { by: 'month' });
    expect(await frame.$$eval('[data-panel="retention.cohort"] [data-heatmap] tbody tr', (trs) => trs.length)).toBe(cohorts.rows.length);
    for (const c of cohorts.rows) {
      const row = `[data-panel="retention.cohort"] tr[data-cohort="${c.period}"]`;
      expect(Number(await frame.getAttribute(`${row} td.num`, 'data-value'))).toBe(c.detail.size);
      for (const cell of c.detail.cells.filter((x: any) => x.monthsSince > 0)) {
        expect(Number(await frame.getAttribute(`${row} td[data-months="${cell.monthsSince}"]`, 'data-value'))).toBe(cell.patients);
      }
    }
    await shot('retention');
  });

  it('Услуги: the service named like markup is text; the XLSX export downloads with the API’s numbers', async () => {
    const range = presetRange('last_12m', localToday());
    await go('#/services?period=last_12m');
    const svc = await kpi('service_revenue', range, { by: 'service' });
    const xss = svc.rows.find((r: any) => r.service.name === XSS);
    expect(xss).toBeTruthy();
    const cell = await frame.waitForSelector(`[data-table=uslugi] tr[data-row="${xss.service.id}"] td[data-col=name]`);
    expect(await cell.textContent()).toBe(XSS);
    expect(await frame.$$('img[src=x]')).toHaveLength(0);
    expect(dialogs).toEqual([]);
    await shot('services');

    const [download] = await Promise.all([page.waitForEvent('download'), frame.click('[data-table=uslugi] [data-export=xlsx]')]);
    expect(download.suggestedFilename()).toBe(`uslugi_${range.from}_${addDaysIso(range.to, -1)}.xlsx`);
    const path = `${SHOTS}/uslugi.xlsx`;
    await download.saveAs(path);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    const ws = wb.worksheets[0]!;
    const header = ws.getRow(3).values as unknown[];
    const nameCol = header.indexOf('Услуга');
    const revCol = header.indexOf(header.find((v) => v === 'Выручка'));
    const fromFile = new Map<string, number>();
    ws.eachRow((row, i) => {
      if (i > 3) fromFile.set(String(row.getCell(nameCol).value), Number(row.getCell(revCol).value));
    });
    expect(fromFile.size).toBe(svc.rows.length);
    for (const r of svc.rows) expect(fromFile.get(r.service.name)).toBe(r.value);
  });

  it('Данные and Настройки render for the admin, with the run log and the portal’s pipelines', async () => {
    await go('#/data');
    const status = await api('/api/v1/sync/status');
    await frame.waitForSelector('#runs table');
    expect(await frame.getAttribute('#sync-state', 'data-state')).toBe('finished');
    expect(await frame.textContent('#runs tbody tr:first-child td:first-child')).toBe(String(status.runs[0].id));
    const q = await api('/api/v1/settings/quality');
    expect(Number(await frame.getAttribute('[data-quality-key=visits] td[data-value]', 'data-value'))).toBe(q.quality.visits);
    // The visits behind a count; a deal opens in the portal's slider.
    const kind = (['withoutDoctor', 'withoutPatient', 'withBadRows'] as const).find((k) => q.quality[k] > 0);
    if (kind) {
      await frame.click(`[data-quality-key=${kind}] a`);
      await settled();
      const listed = await api(`/api/v1/quality/visits?kind=${kind}&limit=50`);
      expect(await frame.$$eval('[data-quality-visits] tr', (trs) => trs.map((t) => Number(t.getAttribute('data-deal'))))).toEqual(listed.visits.map((v: any) => v.dealId));
      await frame.click(`[data-quality-visits] tr[data-deal="${listed.visits[0].dealId}"] a`);
      const sliders = (await page.evaluate(() => (window as any).__b24host.sliders)) as { command: string; path: string }[];
      expect(sliders.at(-1)).toMatchObject({ command: 'openPath' });
      expect(JSON.stringify(sliders.at(-1))).toContain(`/crm/deal/details/${listed.visits[0].dealId}/`);
    }
    const bi = await api('/api/v1/bi/status');
    expect(await frame.getAttribute('[data-bi-status]', 'data-state')).toBe(bi.status);
    await shot('data');
    await go('#/settings');
    const s = await api('/api/v1/settings');
    const text = await frame.textContent('[data-settings]');
    for (const p of s.choices.pipelines) expect(text).toContain(p.name);
    await shot('settings');
    expect(errors).toEqual([]);
  });

  it('Настройки: plans for the clinic, a direction and a doctor are saved each in its scope; Обзор shows the filtered one’s', async () => {
    await go('#/settings');
    const month = localToday().slice(0, 7);
    const year = await kpi('revenue', presetRange('last_12m', localToday()), { by: 'doctor' });
    const doctor = year.rows.find((r: any) => r.doctor?.id).doctor;
    const byDirection = await kpi('revenue', presetRange('last_12m', localToday()), { by: 'direction' });
    const direction = byDirection.rows.find((r: any) => r.direction?.id).direction;
    const fill = async (scope: string, revenue: string, visits: string) => {
      await frame.waitForSelector(`[data-plan-scope] option[value="${scope}"]`, { state: 'attached' });
      await frame.selectOption('[data-plan-scope]', scope);
      await frame.waitForSelector(`[data-plans][data-scope="${scope}"]`);
      await frame.fill(`[data-plans] tr[data-month="${month}"] input[name=revenue]`, revenue);
      await frame.dispatchEvent(`[data-plans] tr[data-month="${month}"] input[name=revenue]`, 'change');
      await frame.fill(`[data-plans] tr[data-month="${month}"] input[name=visits]`, visits);
      await frame.dispatchEvent(`[data-plans] tr[data-month="${month}"] input[name=visits]`, 'change');
    };
    await fill('clinic:', '900000', '300');
    await fill(`direction:${direction.id}`, '250000', '80');
    await fill(`doctor:${doctor.id}`, '120000', '40');
    // Switching back keeps what was typed for the clinic.
    await frame.selectOption('[data-plan-scope]', 'clinic:');
    expect(await frame.inputValue(`[data-plans] tr[data-month="${month}"] input[name=revenue]`)).toBe('900000');
    await frame.click('[data-save=plans]');
    await frame.waitForSelector('[data-plans] ~ p[role=status]');
    const stored = (await api(`/api/v1/plans?year=${month.slice(0, 4)}`)).plans.filter((p: any) => p.month === month);
    expect(stored).toEqual(
      expect.arrayContaining([
        { month, scope: 'clinic', scopeId: '', revenue: 900000, visits: 300, newPatients: null },
        { month, scope: 'direction', scopeId: direction.id, revenue: 250000, visits: 80, newPatients: null },
        { month, scope: 'doctor', scopeId: doctor.id, revenue: 120000, visits: 40, newPatients: null },
      ]),
    );
    expect(stored).toHaveLength(3);
    // The doctor's scope is marked in the list as having a plan.
    expect(await frame.textContent(`[data-plan-scope] option[value="doctor:${doctor.id}"]`)).toMatch(/•$/);

    // Обзор with the doctor filter: the doctor's own MTD plan, and the API's progress for them.
    await go(`#/?doctor=${encodeURIComponent(doctor.id)}`);
    await frame.waitForSelector(`[data-plan][data-plan-scope="doctor:${doctor.id}"]`);
    const progress = await api(`/api/v1/plans/progress?date=${localToday()}&scope=doctor&scopeId=${encodeURIComponent(doctor.id)}`);
    expect(progress.mtd.revenue.plan).toBe(120000);
    const row = await frame.textContent('[data-plan-metric="mtd.revenue"]');
    expect(row).toContain(fmt.money(120000));
    expect(row).toContain(fmt.money(progress.mtd.revenue.fact));
    expect(await frame.textContent('[data-panel="overview.plan"]')).toContain(doctor.name);
    // With the direction filter alone: the direction's.
    await go(`#/?direction=${encodeURIComponent(direction.id)}`);
    await frame.waitForSelector(`[data-plan][data-plan-scope="direction:${direction.id}"]`);
    expect(await frame.textContent('[data-plan-metric="mtd.visits"]')).toContain(fmt.count(80));
    // No filter: the clinic's.
    await go('#/');
    await frame.waitForSelector('[data-plan][data-plan-scope="clinic:"]');
    expect(await frame.textContent('[data-plan-metric="mtd.revenue"]')).toContain(fmt.money(900000));
    expect(errors).toEqual([]);
  });

  it('Настройки: the portal’s own sync schedule is saved (empty = the default); a malformed one is refused with the reason', async () => {
    await go('#/settings');
    await frame.waitForSelector('[data-settings] input[name=syncCron]');
    expect(await frame.getAttribute('[data-settings] input[name=syncCron]', 'placeholder')).toBe('*/10 * * * *');
    await frame.fill('[data-settings] input[name=syncCron]', 'every hour');
    await frame.click('[data-save=settings]');
    expect(await (await frame.waitForSelector('[data-panel="settings.model"] [role=alert]')).textContent()).toContain('every hour');
    expect((await api('/api/v1/settings')).settings.schedule.incremental).toBeNull();
    await frame.fill('[data-settings] input[name=syncCron]', '*/15 * * * *');
    await frame.click('[data-save=settings]');
    await frame.waitForSelector('[data-panel="settings.model"] [role=status]');
    expect((await api('/api/v1/settings')).settings.schedule).toEqual({ incremental: '*/15 * * * *', reconcile: null });
  });
});

function addDaysIso(d: string, n: number): string {
  return new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
