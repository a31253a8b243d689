// Builds and refreshes a portal's clinic facts (clinic_visit, clinic_service_line, clinic_patient,
// and the daily and monthly sums clinic_visit_day, clinic_visit_month, clinic_service_month) from
// the mirror. A refresh is full when the model changed (settings, or the reference data they read:
// stage semantics, currency rates, product sections), and otherwise incremental: only the deals a
// sync wrote since the last build (b24_deal.synced_at) and deals that disappeared, then the
// aggregates of the patients, days and months those deals touch. Each build is one transaction, so readers see the
// old facts or the new ones, never half.
import { sql, SqliteAdapter, type Kysely, type Transaction } from 'kysely';
import { bindSql, loadSqlFile, type SqlFile } from '../db/sql-file.js';
import type { Database } from '../db/schema.js';
import { DEAL_COLUMNS, deriveVisit, isVisitDeal, ROW_COLUMNS, type DealInput, type LineFact, type ModelContext, type RowInput, type VisitFact } from './derive.js';
import { hashOf, loadStoredSettings, type ClinicSettings } from './settings.js';

const DEAL_CHUNK = 2000;
const INSERT_CHUNK = 400;
/** Above this share of changed deals an incremental refresh rebuilds everything instead. */
const FULL_REBUILD_SHARE = 0.3;

const VISIT_ORDER = loadSqlFile('facts/visit_order.sql');
const PATIENT = loadSqlFile('facts/patient.sql');
const VISIT_DAY = loadSqlFile('facts/visit_day.sql');
const MONTH = loadSqlFile('facts/month.sql');
const PATIENT_MONTH = loadSqlFile('facts/patient_month.sql');

export interface BuildResult {
  kind: 'full' | 'incremental' | 'none';
  /** Deals examined. */
  deals: number;
  visits: number;
  patients: number;
  ms: number;
}

// A transaction is a Kysely too: these read inside a build's transaction or outside it.
type Db = Kysely<Database>;

export async function loadModelContext(db: Db, portalId: string): Promise<{ ctx: ModelContext; hash: string }> {
  const stored = await loadStoredSettings(db, portalId);
  const [currencies, statuses, products, fields] = await Promise.all([
    db.selectFrom('b24_currency').select(['currency', 'amount', 'amount_cnt', 'base']).where('portal_id', '=', portalId).orderBy('currency').execute(),
    db
      .selectFrom('b24_status')
      .select(['entity_id', 'status_id', 'category_id', 'semantics'])
      .where('portal_id', '=', portalId)
      .where('entity_id', 'like', 'DEAL_STAGE%')
      .orderBy('entity_id')
      .orderBy('status_id')
      .execute(),
    db.selectFrom('b24_product').select(['id', 'section_id']).where('portal_id', '=', portalId).orderBy('id').execute(),
    db
      .selectFrom('b24_user_field')
      .select(['field_name', 'user_type_id'])
      .where('portal_id', '=', portalId)
      .where('entity_id', '=', 'CRM_DEAL')
      .orderBy('field_name')
      .execute(),
  ]);
  const base = currencies.find((c) => c.base === 1)?.currency ?? 'RUB';
  const ctx: ModelContext = {
    settings: stored.settings,
    accountCurrency: base,
    rates: new Map(currencies.map((c) => [c.currency, c.amount / (c.amount_cnt || 1)])),
    stageSemantics: new Map(
      statuses.map((s) => {
        const cat = s.category_id ?? (s.entity_id === 'DEAL_STAGE' ? 0 : Number(s.entity_id.slice('DEAL_STAGE_'.length)));
        return [`${cat}|${s.status_id}`, s.semantics];
      }),
    ),
    productSection: new Map(products.map((p) => [p.id, p.section_id])),
    dateOnlyFields: new Set(fields.filter((f) => f.user_type_id === 'date').map((f) => f.field_name)),
  };
  const hash = hashOf([stored.hash, base, currencies, statuses, products, fields]);
  return { ctx, hash };
}

/**
 * What a build depends on besides the mirror's contents: the latest sync run (id, status, finish) and
 * the settings version. Two small indexed reads, so every KPI request can afford to check it.
 */
async function freshnessKey(db: Db, portalId: string): Promise<{ key: string; syncedAt: string | null }> {
  const [last, finished, settings] = await Promise.all([
    db.selectFrom('sync_run').select(['id', 'status', 'finished_at']).where('portal_id', '=', portalId).orderBy('id', 'desc').limit(1).executeTakeFirst(),
    db
      .selectFrom('sync_run')
      .select('finished_at')
      .where('portal_id', '=', portalId)
      .where('status', '=', 'finished')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst(),
    db.selectFrom('clinic_settings').select('version').where('portal_id', '=', portalId).executeTakeFirst(),
  ]);
  const run = last ? `${last.id}:${last.status}:${last.finished_at ?? ''}` : 'none';
  return { key: `${run}|settings:${settings?.version ?? 0}`, syncedAt: finished?.finished_at ?? null };
}

/** What KPI queries need to know about a portal's facts. */
export interface FactState {
  settings: ClinicSettings;
  /** When the data the facts reflect was synced; null before the first finished sync. */
  syncedAt: string | null;
  /** Changes whenever the facts may have changed (a finished sync, new settings). */
  version: string;
}

/**
 * Up to where the mirror's deals are seen by a build. A sync run stamps its rows with its start time;
 * while one is running, more rows with that stamp may follow, so the mark stays just below it.
 */
async function dealWatermark(db: Db, portalId: string): Promise<string | null> {
  const max = await db
    .selectFrom('b24_deal')
    .select((eb) => eb.fn.max('synced_at').as('w'))
    .where('portal_id', '=', portalId)
    .executeTakeFirst();
  const running = await db
    .selectFrom('sync_run')
    .select((eb) => eb.fn.min('started_at').as('s'))
    .where('portal_id', '=', portalId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  const w = max?.w ?? null;
  if (!running?.s || w === null || w < running.s) return w;
  return new Date(Date.parse(running.s) - 1).toISOString();
}

export class FactBuilder {
  /** One refresh per portal at a time in this process; callers share the running one. */
  private readonly running = new Map<string, Promise<BuildResult>>();
  /** Per portal: the freshness key of the last check and the state it produced. */
  private readonly states = new Map<string, { key: string; state: FactState }>();

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The facts brought up to date if a sync or a settings change happened since the last look, and
   * the settings they were built with. Cheap when nothing changed: KPI requests call it every time.
   */
  async ensureFresh(portalId: string): Promise<FactState> {
    const { key } = await freshnessKey(this.db, portalId);
    const known = this.states.get(portalId);
    if (known?.key === key) return known.state;
    await this.refresh(portalId);
    const [{ key: after, syncedAt }, stored] = await Promise.all([freshnessKey(this.db, portalId), loadStoredSettings(this.db, portalId)]);
    const state = { settings: stored.settings, syncedAt, version: after };
    this.states.set(portalId, { key: after, state });
    return state;
  }

  /** Brings the facts up to date with the mirror and settings; cheap when nothing changed. */
  refresh(portalId: string, opts: { full?: boolean } = {}): Promise<BuildResult> {
    const cur = this.running.get(portalId);
    if (cur) return cur;
    const p = this.doRefresh(portalId, opts.full ?? false)
      .then(async (r) => {
        if (r.kind !== 'none') await this.refreshStatistics(r.kind === 'full');
        return r;
      })
      .finally(() => this.running.delete(portalId));
    this.running.set(portalId, p);
    return p;
  }

  /**
   * Both databases plan the fact queries from table statistics. SQLite has them only after ANALYZE;
   * without them it can scan all visits where a few hundred dirty patients' rows would do (measured:
   * the incremental refresh after 1 % changed 5.5 s → 3.7 s). After every build, `optimize` only
   * re-analyzes tables whose size moved a lot, bounded by analysis_limit. PostgreSQL's autovacuum
   * analyzes on its own schedule, too late after a full build (a KPI query over visits then ran as
   * nested scans for seconds): the fact tables are analyzed after each full build.
   */
  private async refreshStatistics(full: boolean): Promise<void> {
    if (this.db.getExecutor().adapter instanceof SqliteAdapter) {
      await sql`PRAGMA analysis_limit = 1000`.execute(this.db);
      await sql`PRAGMA optimize = 0x10002`.execute(this.db);
    } else if (full) {
      await sql`ANALYZE clinic_visit, clinic_service_line, clinic_patient, clinic_visit_day, clinic_visit_month, clinic_service_month, clinic_patient_month`.execute(this.db);
    }
  }

  private async doRefresh(portalId: string, forceFull: boolean): Promise<BuildResult> {
    const t0 = performance.now();
    return this.db.transaction().execute(async (trx) => {
      const { key, syncedAt } = await freshnessKey(trx, portalId);
      const prev = await trx.selectFrom('clinic_build').selectAll().where('portal_id', '=', portalId).executeTakeFirst();
      if (!forceFull && prev?.sync_mark === key) return { kind: 'none', deals: 0, visits: 0, patients: 0, ms: performance.now() - t0 };
      const { ctx, hash } = await loadModelContext(trx, portalId);
      const watermark = await dealWatermark(trx, portalId);
      let kind: BuildResult['kind'];
      let counts: { deals: number; visits: number; patients: number };
      if (forceFull || !prev || prev.model_hash !== hash) {
        kind = 'full';
        counts = await this.full(trx, portalId, ctx);
      } else {
        const inc = await this.incremental(trx, portalId, ctx, prev.deal_watermark);
        if (inc === 'too_many') {
          kind = 'full';
          counts = await this.full(trx, portalId, ctx);
        } else {
          kind = 'incremental';
          counts = inc;
        }
      }
      const ms = Math.round(performance.now() - t0);
      const row = {
        model_hash: hash,
        sync_mark: key,
        deal_watermark: watermark,
        synced_at: syncedAt,
        built_at: new Date().toISOString(),
        kind,
        deals: counts.deals,
        ms,
      };
      await trx
        .insertInto('clinic_build')
        .values({ portal_id: portalId, ...row })
        .onConflict((oc) => oc.column('portal_id').doUpdateSet(row))
        .execute();
      return { kind, ...counts, ms };
    });
  }

  private async full(trx: Transaction<Database>, portalId: string, ctx: ModelContext) {
    for (const t of [
      'clinic_visit',
      'clinic_service_line',
      'clinic_patient',
      'clinic_visit_day',
      'clinic_visit_month',
      'clinic_service_month',
      'clinic_patient_month',
      'clinic_dirty_month',
      'clinic_rejected_deal',
      'clinic_dirty_patient',
      'clinic_dirty_day',
    ] as const)
      await trx.deleteFrom(t).where('portal_id', '=', portalId).execute();
    let after = 0;
    let deals = 0;
    let visits = 0;
    for (;;) {
      const chunk = await trx
        .selectFrom('b24_deal')
        .select(DEAL_COLUMNS)
        .where('portal_id', '=', portalId)
        .where('id', '>', after)
        .orderBy('id')
        .limit(DEAL_CHUNK)
        .execute();
      if (chunk.length === 0) break;
      deals += chunk.length;
      // Consecutive deals: their rows are one range of the deal index, cheaper than a list of ids.
      visits += await this.deriveAndInsert(trx, portalId, ctx, chunk, [after, chunk.at(-1)!.id]);
      after = chunk.at(-1)!.id;
    }
    const patients = await this.aggregatePatients(trx, portalId);
    return { deals, visits, patients };
  }

  private async incremental(
    trx: Transaction<Database>,
    portalId: string,
    ctx: ModelContext,
    watermark: string | null,
  ): Promise<{ deals: number; visits: number; patients: number } | 'too_many'> {
    // Changed: written after the last build's watermark. Gone: facts whose deal the mirror no longer has.
    const changed = await trx
      .selectFrom('b24_deal')
      .select(DEAL_COLUMNS)
      .where('portal_id', '=', portalId)
      .$if(watermark !== null, (q) => q.where('synced_at', '>', watermark!))
      .orderBy('id')
      .execute();
    const total = await trx
      .selectFrom('b24_deal')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('portal_id', '=', portalId)
      .executeTakeFirstOrThrow();
    if (changed.length > Math.max(1000, Number(total.n) * FULL_REBUILD_SHARE)) return 'too_many';
    const gone = await trx
      .selectFrom('clinic_visit as v')
      .select('v.deal_id')
      .where('v.portal_id', '=', portalId)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('b24_deal as d')
              .select('d.id')
              .whereRef('d.portal_id', '=', 'v.portal_id')
              .whereRef('d.id', '=', 'v.deal_id'),
          ),
        ),
      )
      .execute();
    const ids = [...changed.map((d) => d.id), ...gone.map((g) => g.deal_id)];
    let visits = 0;
    for (let i = 0; i < ids.length; i += DEAL_CHUNK) {
      const part = ids.slice(i, i + DEAL_CHUNK);
      // The patients and days these deals belonged to before (a deal can change patient or date, or
      // stop being a visit).
      const before = await trx
        .selectFrom('clinic_visit')
        .select(['patient_id', 'visit_date'])
        .where('portal_id', '=', portalId)
        .where('deal_id', 'in', part)
        .execute();
      await markDirty(trx, portalId, before);
      await trx.deleteFrom('clinic_visit').where('portal_id', '=', portalId).where('deal_id', 'in', part).execute();
      await trx.deleteFrom('clinic_service_line').where('portal_id', '=', portalId).where('deal_id', 'in', part).execute();
      await trx.deleteFrom('clinic_rejected_deal').where('portal_id', '=', portalId).where('deal_id', 'in', part).execute();
    }
    for (let i = 0; i < changed.length; i += DEAL_CHUNK)
      visits += await this.deriveAndInsert(trx, portalId, ctx, changed.slice(i, i + DEAL_CHUNK));
    const patients = await this.aggregatePatients(trx, portalId);
    return { deals: ids.length, visits, patients };
  }

  /**
   * Derives visits and lines for a chunk of deals, inserts them, marks their patients dirty. `range`
   * (after, last]: the chunk holds every deal with an id in it, so rows are read by range.
   */
  private async deriveAndInsert(trx: Transaction<Database>, portalId: string, ctx: ModelContext, deals: DealInput[], range?: [number, number]) {
    const rowsByDeal = new Map<number, RowInput[]>();
    // Product rows only of the deals that are visits (about two thirds in a typical clinic).
    const candidates = deals.filter((d) => isVisitDeal(d, ctx));
    if (candidates.length > 0) {
      const wanted = new Set(candidates.map((d) => d.id));
      const rows = (
        await trx
          .selectFrom('b24_product_row')
          .select(ROW_COLUMNS)
          .where('portal_id', '=', portalId)
          .$if(range !== undefined, (q) => q.where('deal_id', '>', range![0]).where('deal_id', '<=', range![1]))
          .$if(range === undefined, (q) => q.where('deal_id', 'in', [...wanted]))
          .execute()
      ).filter((r) => wanted.has(r.deal_id));
      // No ORDER BY: SQLite would walk the primary key for it instead of the deal index.
      rows.sort((a, b) => a.id - b.id);
      for (const r of rows) {
        let list = rowsByDeal.get(r.deal_id);
        if (!list) rowsByDeal.set(r.deal_id, (list = []));
        list.push(r);
      }
    }
    const visits: VisitFact[] = [];
    const lines: LineFact[] = [];
    const rejected: { portal_id: string; deal_id: number; reason: string }[] = [];
    for (const d of candidates) {
      const derived = deriveVisit(d, rowsByDeal.get(d.id) ?? [], ctx, (reason) => rejected.push({ portal_id: portalId, deal_id: d.id, reason }));
      if (!derived) continue;
      derived.visit.portal_id = portalId;
      visits.push(derived.visit);
      for (const l of derived.lines) {
        l.portal_id = portalId;
        lines.push(l);
      }
    }
    for (let i = 0; i < visits.length; i += INSERT_CHUNK)
      await trx.insertInto('clinic_visit').values(visits.slice(i, i + INSERT_CHUNK)).execute();
    for (let i = 0; i < lines.length; i += INSERT_CHUNK)
      await trx.insertInto('clinic_service_line').values(lines.slice(i, i + INSERT_CHUNK)).execute();
    for (let i = 0; i < rejected.length; i += INSERT_CHUNK)
      await trx.insertInto('clinic_rejected_deal').values(rejected.slice(i, i + INSERT_CHUNK)).execute();
    await markDirty(trx, portalId, visits);
    return visits.length;
  }

  private async aggregatePatients(trx: Transaction<Database>, portalId: string): Promise<number> {
    await runSqlFile(trx, VISIT_ORDER, { portal: portalId });
    await runSqlFile(trx, PATIENT, { portal: portalId });
    await runSqlFile(trx, VISIT_DAY, { portal: portalId });
    await runSqlFile(trx, MONTH, { portal: portalId });
    await runSqlFile(trx, PATIENT_MONTH, { portal: portalId });
    await trx.deleteFrom('clinic_dirty_day').where('portal_id', '=', portalId).execute();
    const n = await trx
      .selectFrom('clinic_dirty_patient')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('portal_id', '=', portalId)
      .executeTakeFirstOrThrow();
    await trx.deleteFrom('clinic_dirty_patient').where('portal_id', '=', portalId).execute();
    return Number(n.n);
  }
}

/** Marks the patients and days of these visits for the aggregate step. */
async function markDirty(
  trx: Transaction<Database>,
  portalId: string,
  visits: readonly { patient_id?: number | null; visit_date: string }[],
): Promise<void> {
  const patients = [...new Set(visits.flatMap((v) => (v.patient_id == null ? [] : [v.patient_id])))];
  for (let i = 0; i < patients.length; i += INSERT_CHUNK)
    await trx
      .insertInto('clinic_dirty_patient')
      .values(patients.slice(i, i + INSERT_CHUNK).map((patient_id) => ({ portal_id: portalId, patient_id })))
      .onConflict((oc) => oc.columns(['portal_id', 'patient_id']).doNothing())
      .execute();
  const days = [...new Set(visits.map((v) => v.visit_date))];
  for (let i = 0; i < days.length; i += INSERT_CHUNK)
    await trx
      .insertInto('clinic_dirty_day')
      .values(days.slice(i, i + INSERT_CHUNK).map((visit_date) => ({ portal_id: portalId, visit_date })))
      .onConflict((oc) => oc.columns(['portal_id', 'visit_date']).doNothing())
      .execute();
}

async function runSqlFile(trx: Transaction<Database>, file: SqlFile, params: Record<string, string | number>): Promise<void> {
  for (const statement of file.statements) await bindSql(statement, params).execute(trx);
}
