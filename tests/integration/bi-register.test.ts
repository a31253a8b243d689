// Registration of the BI Builder connector in the portal: the real app installed into an emulated
// portal through ONAPPINSTALL registers connector, source (Bitrix24 calls our urlCheck inside
// biconnector.source.add) and datasets; the portal then queries a dataset as BI Builder does.
// Re-registration is idempotent; a lost secret is replaced; a portal without BI Builder gets a clear
// status and the install stands. Both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCOPE } from '../../src/emulator/emulator.js';
import { biClientForDataset, biconnectorState } from '../../src/emulator/methods/biconnector.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { installByEvent, openSession, startApp, startPortal, waitFor, type AppHarness } from '../fixtures/app-harness.js';
import { DIALECTS } from '../fixtures/stores.js';

const DATASETS = ['clinic_visits', 'clinic_service_lines', 'clinic_patients', 'clinic_doctors', 'clinic_directions', 'clinic_kpi_month', 'clinic_return_cohort'];

describe.each(DIALECTS)('BI Builder registration on %s', (dialect) => {
  let h: AppHarness;
  let emu: RunningEmulator;
  let portalId: string;
  const state = () => biconnectorState(emu.emulator.portal);
  const tokenOf = () => [...state().sources.values()][0]!.settings.find((s) => s.code === 'token')!.value;
  const api = async (method: string, path: string, userId = 1) => {
    const s = await openSession(h, emu, userId);
    const res = await fetch(`${h.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${s.body.token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    h = await startApp(dialect);
    emu = await startPortal(11);
    await installByEvent(h, emu);
    portalId = emu.emulator.portal.memberId;
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });

  it('install registers one connector with our URLs, one source whose secret passed urlCheck, and every dataset', async () => {
    const connectors = [...state().connectors.values()];
    expect(connectors).toHaveLength(1);
    expect(connectors[0]).toMatchObject({
      urlCheck: `${h.url}/bi/check?portal=${portalId}`,
      urlTableList: `${h.url}/bi/tables?portal=${portalId}`,
      urlTableDescription: `${h.url}/bi/describe?portal=${portalId}`,
      urlData: `${h.url}/bi/data?portal=${portalId}`,
      settings: [{ code: 'token', type: 'STRING', name: expect.any(String) }],
    });
    const sources = [...state().sources.values()];
    expect(sources).toHaveLength(1);
    // The source exists only because our urlCheck accepted the secret inside source.add.
    expect(tokenOf()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await h.app.bi.connector.store.verify(portalId, tokenOf())).toBe(true);
    expect(await h.app.bi.connector.store.verify(portalId, `${tokenOf()}x`)).toBe(false);
    const row = await h.app.bi.connector.store.get(portalId);
    expect(row).toMatchObject({ status: 'registered', pending_secret: null, source_id: sources[0]!.id, connector_id: connectors[0]!.id });
    // Sealed at rest, never the plain value.
    expect(row!.secret).not.toContain(tokenOf());
    expect([...state().datasets.values()].map((d) => d.name)).toEqual(DATASETS);
    const visits = [...state().datasets.values()].find((d) => d.name === 'clinic_visits')!;
    expect(visits.fields.map((f) => [f.name, f.externalCode === f.name, f.type]).slice(0, 3)).toEqual([
      ['VISIT_ID', true, 'int'],
      ['DEAL_ID', true, 'int'],
      ['VISIT_DATE', true, 'date'],
    ]);
    expect(h.logs.join('\n')).not.toContain(tokenOf());
  });

  it('the portal queries the datasets as BI Builder does, and gets the store\'s numbers', async () => {
    await waitFor('the first sync', async () => (await h.store.db.selectFrom('sync_run').select('status').where('portal_id', '=', portalId).where('status', '=', 'finished').executeTakeFirst()) ?? null, 60_000);
    const r = await biClientForDataset(emu.emulator.portal, h.clientId, 'clinic_visits').dataFor(['VISIT_ID', 'REVENUE']);
    const facts = await h.store.db.selectFrom('clinic_visit').select(['deal_id', 'revenue_minor']).where('portal_id', '=', portalId).orderBy('deal_id').execute();
    expect(facts.length).toBeGreaterThan(10);
    expect(r.rows).toEqual(facts.map((f) => [Number(f.deal_id), Number(f.revenue_minor) / 100]));
    for (const name of DATASETS) {
      const preview = await biClientForDataset(emu.emulator.portal, h.clientId, name).dataFor(undefined, undefined, 20);
      expect([name, preview.rows.length > 0]).toEqual([name, true]);
    }
  });

  it('reinstalling and registering again from the admin screen change nothing', async () => {
    const before = { token: tokenOf(), source: [...state().sources.keys()], connector: [...state().connectors.keys()], datasets: [...state().datasets.keys()] };
    await installByEvent(h, emu);
    const again = await api('POST', '/bi/register');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'registered', message: null, datasets: DATASETS, urls: { urlData: `${h.url}/bi/data?portal=${portalId}` } });
    expect({ token: tokenOf(), source: [...state().sources.keys()], connector: [...state().connectors.keys()], datasets: [...state().datasets.keys()] }).toEqual(before);
    expect((await api('GET', '/bi/status')).body).toMatchObject({ status: 'registered', sourceId: before.source[0] });
    // Not for every user.
    expect((await api('POST', '/bi/register', 2)).status).toBe(403);
  });

  it("a dataset whose fields differ from ours is brought to them: missing added, foreign deleted, retyped replaced", async () => {
    const kpiMonth = () => [...state().datasets.values()].find((d) => d.name === 'clinic_kpi_month')!;
    const want = kpiMonth().fields.map((f) => [f.name, f.type]);
    const untouched = kpiMonth().fields.find((f) => f.name === 'DOCTOR_ID')!.id;
    // As a portal would hold it after an older version of the app: REVENUE missing, a field the app
    // no longer serves, MONTH registered as a string.
    const d = kpiMonth();
    d.fields = d.fields.filter((f) => f.name !== 'REVENUE').map((f) => (f.name === 'MONTH' ? { ...f, type: 'string' } : f));
    d.fields.push({ id: 99_999, datasetId: d.id, name: 'OLD_FIELD', externalCode: 'OLD_FIELD', type: 'int', visible: true });
    const r = await api('POST', '/bi/register');
    expect(r.body.status).toBe('registered');
    const now = kpiMonth().fields;
    expect(now.map((f) => [f.name, f.type]).sort()).toEqual([...want].sort());
    expect(now.find((f) => f.name === 'DOCTOR_ID')!.id).toBe(untouched);
    expect(now.some((f) => f.id === 99_999)).toBe(false);
  });

  it('a lost secret is replaced: a new source with a fresh secret, the datasets again, the old secret refused', async () => {
    const old = tokenOf();
    const oldSource = [...state().sources.keys()][0];
    await h.app.bi.connector.store.save(portalId, { secret: null });
    const r = await api('POST', '/bi/register');
    expect(r.body.status).toBe('registered');
    expect([...state().sources.keys()]).toHaveLength(1);
    expect([...state().sources.keys()][0]).not.toBe(oldSource);
    expect(tokenOf()).not.toBe(old);
    expect(await h.app.bi.connector.store.verify(portalId, old)).toBe(false);
    expect([...state().datasets.values()].map((d) => d.name)).toEqual(DATASETS);
    const rows = await biClientForDataset(emu.emulator.portal, h.clientId, 'clinic_doctors').dataFor();
    expect(rows.rows.length).toBeGreaterThan(0);
  });

  it('a portal without BI Builder for the app: a clear status, and the install still succeeds', async () => {
    const other = await startPortal(12);
    try {
      await other.emulator.installApp({
        clientId: h.clientId,
        clientSecret: h.clientSecret,
        handlerUrl: `${h.url}/`,
        installUrl: `${h.url}/b24/install`,
        userId: 1,
        scope: DEFAULT_SCOPE.filter((s) => s !== 'biconnector'),
      });
      await other.emulator.events.settle();
      const id = other.emulator.portal.memberId;
      const portal = await waitFor('the install', () => h.app.services.portals.get(id));
      expect(portal.status).toBe('active');
      const status = await waitFor('the BI status', async () => {
        const s = await h.app.bi.connector.store.status(id);
        return s.status === 'unavailable' || s.status === 'failed' ? s : null;
      });
      expect(status).toMatchObject({ status: 'unavailable', sourceId: null, datasets: [] });
      expect(status.message).toMatch(/BI Builder is not available/);
      expect(biconnectorState(other.emulator.portal).connectors.size).toBe(0);
    } finally {
      await other.close();
    }
  });
});
