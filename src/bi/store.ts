// The bi_connector row of a portal (migration 0004_bi): registration status for the admin screen and
// the BI Builder source's secret, sealed at rest. The table is this module's own, so its row type lives
// here and the shared Database interface stays untouched (Kysely `withTables`).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SecretBox } from '../db/secrets.js';

export type BiStatusCode = 'not_registered' | 'registering' | 'registered' | 'unavailable' | 'failed';

export interface BiConnectorTable {
  portal_id: string;
  status: BiStatusCode;
  message: string | null;
  secret: string | null;
  pending_secret: string | null;
  connector_id: number | null;
  source_id: number | null;
  /** JSON array of the dataset names registered in the portal. */
  datasets: string | null;
  registered_at: string | null;
  updated_at: string;
}

export type BiDb = Kysely<Database & { bi_connector: BiConnectorTable }>;

export interface BiStatus {
  status: BiStatusCode;
  message: string | null;
  connectorId: number | null;
  sourceId: number | null;
  datasets: string[];
  registeredAt: string | null;
  updatedAt: string | null;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
/** Compared when a portal has no secret, so a wrong portal costs the same as a wrong token. */
const NO_SECRET = digest('\u0000no secret');

export class BiStore {
  readonly db: BiDb;

  constructor(
    db: Kysely<Database>,
    private readonly box: SecretBox,
  ) {
    this.db = db.withTables<{ bi_connector: BiConnectorTable }>();
  }

  get(portalId: string): Promise<BiConnectorTable | undefined> {
    return this.db.selectFrom('bi_connector').selectAll().where('portal_id', '=', portalId).executeTakeFirst();
  }

  async status(portalId: string): Promise<BiStatus> {
    const r = await this.get(portalId);
    return {
      status: r?.status ?? 'not_registered',
      message: r?.message ?? null,
      connectorId: r?.connector_id ?? null,
      sourceId: r?.source_id ?? null,
      datasets: r?.datasets ? (JSON.parse(r.datasets) as string[]) : [],
      registeredAt: r?.registered_at ?? null,
      updatedAt: r?.updated_at ?? null,
    };
  }

  /** Upserts the given columns of the portal's row. */
  async save(portalId: string, patch: Partial<Omit<BiConnectorTable, 'portal_id' | 'updated_at'>>): Promise<void> {
    const now = new Date().toISOString();
    const base: BiConnectorTable = {
      portal_id: portalId,
      status: 'not_registered',
      message: null,
      secret: null,
      pending_secret: null,
      connector_id: null,
      source_id: null,
      datasets: null,
      registered_at: null,
      updated_at: now,
    };
    await this.db
      .insertInto('bi_connector')
      .values({ ...base, ...patch, updated_at: now })
      .onConflict((oc) => oc.column('portal_id').doUpdateSet({ ...patch, updated_at: now }))
      .execute();
  }

  seal(secret: string): string {
    return this.box.seal(secret);
  }

  /**
   * Whether `token` is the portal's source secret (or the pending one a registration is proving).
   * Constant time in the token: digests of equal length are compared, always at least once.
   */
  async verify(portalId: string, token: string | undefined): Promise<boolean> {
    const row = portalId ? await this.get(portalId) : undefined;
    const active = row ? await this.db.selectFrom('portal').select('status').where('portal_id', '=', portalId).executeTakeFirst() : undefined;
    // An uninstalled portal serves nothing; one waiting for re-authorisation still has its store.
    const sealed = active && active.status !== 'uninstalled' ? [row?.secret, row?.pending_secret].filter((s): s is string => !!s) : [];
    const given = digest(token ?? '');
    let ok = false;
    for (const s of sealed.length ? sealed : [null]) {
      const expected = s ? digest(this.box.open(s)) : NO_SECRET;
      // Non-short-circuit: every candidate is compared.
      ok = timingSafeEqual(given, expected) && !!s && !!token ? true : ok;
    }
    return ok;
  }
}
