// Registering the connector in a portal's BI Builder (reference §2): on every (re)install as an
// install step, and on demand from the admin screen. Idempotent:
//   1. biconnector.connector.list, then .update (URLs follow PUBLIC_URL) or .add — one connector per
//      app per portal;
//   2. the source: kept when we still hold its secret; otherwise a fresh random secret is stored as
//      *pending* and biconnector.source.add is called — Bitrix24 calls our urlCheck inside that call,
//      which accepts the pending secret (so the app must already be serving), and only then is it
//      promoted. Sources of our connector whose secret we lost are deleted first (their datasets with
//      them: without the secret they could not be queried anyway);
//   3. biconnector.dataset.add for each dataset the portal does not have yet; a dataset it has is
//      brought to our fields with biconnector.dataset.fields.update (a KPI added to the registry
//      becomes a clinic_kpi_month field; a field we no longer serve is deleted; one whose type
//      changed is deleted, then added again).
// A portal without BI Builder (feature missing, no rights, no scope) gets status `unavailable` with
// a message saying so; any other failure `failed`. Neither fails the install.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { InstallStep } from '../portal-app/install.js';
import type { PortalRest } from '../sync/rest.js';
import { SECRET_CODE } from './connector.js';
import type { BiDataset } from './datasets.js';
import type { BiStatus, BiStore } from './store.js';

export class BiRestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Error codes (or message fragments) meaning "this portal has no BI Builder for us". */
const UNAVAILABLE = /ACCESS_DENIED|insufficient_scope|METHOD_NOT_FOUND|WRONG_AUTH_TYPE|FEATURE|TARIFF|not available|BI_BUILDER/i;

// A small monochrome logo (data URI, as connector.add requires one).
const LOGO =
  'data:image/svg+xml;base64,' +
  Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 20V10h3v10zm6 0V4h3v16zm6 0v-7h3v7z" fill="#2fc6f6"/></svg>').toString('base64');

const asNum = (v: unknown): number | null => (v === null || v === undefined || v === '' || Number.isNaN(Number(v)) ? null : Number(v));

export class BiRegistrar {
  constructor(
    private readonly deps: { store: BiStore; datasets: BiDataset[]; publicUrl: string; log: Logger },
  ) {}

  installStep(): InstallStep {
    return { name: 'bi-builder', run: async ({ portalId, rest }) => void (await this.register(portalId, rest)) };
  }

  urls(portalId: string): { urlCheck: string; urlTableList: string; urlTableDescription: string; urlData: string } {
    const q = `?portal=${encodeURIComponent(portalId)}`;
    const base = this.deps.publicUrl.replace(/\/+$/, '');
    return {
      urlCheck: `${base}/bi/check${q}`,
      urlTableList: `${base}/bi/tables${q}`,
      urlTableDescription: `${base}/bi/describe${q}`,
      urlData: `${base}/bi/data${q}`,
    };
  }

  /** One biconnector.* call; errors both as HTTP errors and inside `result.error` (§2.1). */
  private async call(rest: PortalRest, method: string, params: Record<string, unknown>): Promise<unknown> {
    let result: unknown;
    try {
      result = (await rest.call(method, params)).result;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const code = (e as { code?: string }).code;
      throw new BiRestError(code && code !== 'ERROR' ? code : (/([A-Z][A-Z_]{3,}|insufficient_scope)/.exec(msg)?.[1] ?? 'ERROR'), `${method}: ${msg}`);
    }
    const err = (result as { error?: { error?: string; error_description?: string } } | null)?.error;
    if (err && typeof err === 'object') throw new BiRestError(err.error ?? 'ERROR', `${method}: ${err.error}: ${err.error_description ?? ''}`);
    return result;
  }

  private async list(rest: PortalRest, method: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let page = 1; page <= 20; page++) {
      const r = await this.call(rest, method, { page });
      const items = (Array.isArray(r) ? r : ((r as { items?: unknown[] } | null)?.items ?? [])) as Record<string, unknown>[];
      out.push(...items);
      if (items.length < 50) break;
    }
    return out;
  }

  /** The portal's dataset brought to our fields: deletions first, so a retyped field's name is free. */
  private async alignFields(rest: PortalRest, datasetId: number, d: BiDataset): Promise<void> {
    const item = ((await this.call(rest, 'biconnector.dataset.get', { id: datasetId })) as { item?: { fields?: Record<string, unknown>[] } } | null)?.item;
    const theirs = new Map((item?.fields ?? []).map((f) => [String(f.name), { id: asNum(f.id)!, type: String(f.type) }]));
    const ours = new Map(d.fields.map((f) => [f.code, f]));
    const remove = [...theirs].filter(([name, f]) => ours.get(name)?.type !== f.type).map(([, f]) => f.id);
    const add = d.fields.filter((f) => theirs.get(f.code)?.type !== f.type).map((f) => ({ name: f.code, externalCode: f.code, type: f.type }));
    if (remove.length) await this.call(rest, 'biconnector.dataset.fields.update', { id: datasetId, delete: remove });
    if (add.length) await this.call(rest, 'biconnector.dataset.fields.update', { id: datasetId, add });
  }

  async register(portalId: string, rest: PortalRest): Promise<BiStatus> {
    const { store, log } = this.deps;
    await store.save(portalId, { status: 'registering', message: null });
    try {
      const fields = {
        title: 'Аналитика клиники',
        logo: LOGO,
        description: 'Визиты, услуги, пациенты и KPI клиники из приложения «Аналитика клиники»',
        ...this.urls(portalId),
        settings: [{ name: 'Ключ доступа', type: 'STRING', code: SECRET_CODE }],
        sort: 100,
      };
      const connectors = await this.list(rest, 'biconnector.connector.list');
      let connectorId = asNum(connectors[0]?.id);
      if (connectorId !== null) await this.call(rest, 'biconnector.connector.update', { id: connectorId, fields });
      else connectorId = asNum(((await this.call(rest, 'biconnector.connector.add', { fields })) as { id?: unknown })?.id);
      if (connectorId === null) throw new BiRestError('ERROR', 'biconnector.connector.add returned no id');
      await store.save(portalId, { connector_id: connectorId });

      const row = await store.get(portalId);
      const ours = (await this.list(rest, 'biconnector.source.list')).filter((s) => asNum(s.connectorId) === connectorId);
      let sourceId = row?.secret && ours.some((s) => asNum(s.id) === row.source_id) ? row.source_id : null;
      if (sourceId === null) {
        for (const s of ours) await this.call(rest, 'biconnector.source.delete', { id: asNum(s.id) });
        const secret = randomBytes(32).toString('base64url');
        await store.save(portalId, { pending_secret: store.seal(secret) });
        try {
          const added = (await this.call(rest, 'biconnector.source.add', {
            fields: { title: 'Аналитика клиники', description: 'Данные приложения «Аналитика клиники»', connectorId, settings: { [SECRET_CODE]: secret } },
          })) as { id?: unknown };
          sourceId = asNum(added?.id);
          if (sourceId === null) throw new BiRestError('ERROR', 'biconnector.source.add returned no id');
          await store.save(portalId, { secret: store.seal(secret), pending_secret: null, source_id: sourceId, datasets: null });
        } catch (e) {
          await store.save(portalId, { pending_secret: null });
          throw e;
        }
      }

      const existing = (await this.list(rest, 'biconnector.dataset.list')).filter((d) => asNum(d.sourceId) === sourceId);
      const have = new Set(existing.map((d) => String(d.name)));
      for (const d of this.deps.datasets) {
        const theirs = existing.find((e) => e.name === d.name);
        if (theirs) {
          await this.alignFields(rest, asNum(theirs.id)!, d);
          continue;
        }
        await this.call(rest, 'biconnector.dataset.add', {
          fields: {
            sourceId,
            name: d.name,
            externalName: d.title,
            externalCode: d.name,
            description: d.description,
            fields: d.fields.map((f) => ({ name: f.code, externalCode: f.code, type: f.type })),
          },
        });
        have.add(d.name);
      }
      const names = this.deps.datasets.map((d) => d.name).filter((n) => have.has(n));
      await store.save(portalId, { status: 'registered', message: null, datasets: JSON.stringify(names), registered_at: new Date().toISOString() });
      log.info({ portalId, connectorId, sourceId, datasets: names.length }, 'BI Builder connector registered');
    } catch (e) {
      const code = e instanceof BiRestError ? e.code : 'ERROR';
      const why = e instanceof Error ? e.message : String(e);
      const unavailable = UNAVAILABLE.test(code) || UNAVAILABLE.test(why);
      const message = unavailable
        ? `BI Builder is not available to the app on this portal (${code}): the tariff may lack BI Builder external datasets, BI Builder may not be activated, or the administrator who installed the app has no BI Builder settings rights. Fix that, then register again.`
        : `Registering the BI Builder connector failed: ${why}`;
      await store.save(portalId, { status: unavailable ? 'unavailable' : 'failed', message });
      log.warn({ portalId, code, err: why }, 'BI Builder registration did not complete');
    }
    return store.status(portalId);
  }
}
