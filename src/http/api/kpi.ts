// The KPI API: the registry (GET /kpi), one KPI (GET /kpi/:id) and the doctor signal. Who sees what:
// admins see everything; with the clinic setting `access.othersSee = "own"` (the default) other users
// see the clinic's totals and their own doctor row — by doctor they get only their row, any other
// breakdown is filtered to their own visits, and asking for another doctor is refused.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { doctorSignal } from '../../kpi/doctor-signal.js';
import { parsePeriod, PeriodError } from '../../kpi/period.js';
import { DIMENSIONS, type Dimension } from '../../kpi/registry.js';
import { KpiQueryError, NotSyncedError, type KpiQuery } from '../../kpi/runner.js';
import { clinicServices, registry } from '../../kpi/services.js';
import { requireAdmin } from '../auth.js';
import { AppError } from '../errors.js';
import { NoQuery } from '../schemas.js';
import type { ApiDeps } from './index.js';

const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'local date YYYY-MM-DD' });
const Id = Type.String({ minLength: 1, maxLength: 64 });
export const KpiQuerySchema = Type.Object(
  {
    from: DateString,
    to: DateString,
    by: Type.Optional(Type.Union(Object.keys(DIMENSIONS).map((d) => Type.Literal(d)))),
    compare: Type.Optional(Type.Union([Type.Literal('previous'), Type.Literal('last_year')])),
    doctor: Type.Optional(Id),
    direction: Type.Optional(Id),
    days: Type.Optional(Type.String({ pattern: '^\\d{1,3}$' })),
    scope: Type.Optional(Type.Union([Type.Literal('clinic'), Type.Literal('doctor')])),
    lang: Type.Optional(Type.Union([Type.Literal('ru'), Type.Literal('en')])),
  },
  { additionalProperties: false },
);

/** Turns the engine's refusals into HTTP errors that say what to change. */
export function kpiError(e: unknown): never {
  if (e instanceof PeriodError || e instanceof KpiQueryError) throw new AppError(400, 'bad_query', e.message);
  if (e instanceof NotSyncedError)
    throw new AppError(409, 'not_synced', 'the portal has not finished its first sync yet: there are no numbers to show');
  throw e;
}

async function ownOnly(deps: ApiDeps, req: FastifyRequest): Promise<string | null> {
  if (req.session.isAdmin) return null;
  // The settings the facts were built with, cached per freshness check (no detection per request).
  const { settings } = await clinicServices(deps.db).facts.ensureFresh(req.session.portalId);
  return settings.access.othersSee === 'own' ? String(req.session.userId) : null;
}

/** GET /kpi's answer: what each KPI is (the same for every portal and user; the dashboard page
 *  carries it too, src/http/pages.ts). */
export function registryAnswer() {
  return {
    kpis: registry.list().map((k) => ({
      id: k.id,
      label: k.label,
      unit: k.unit,
      additive: k.additive,
      dimensions: k.dimensions,
      params: k.params,
      definition: k.definition,
    })),
  };
}

export const kpiRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, deps) => {
  const { runner } = clinicServices(deps.db);

  app.get('/kpi', { schema: { querystring: NoQuery } }, async () => registryAnswer());

  app.get(
    '/kpi/:id',
    { schema: { params: Type.Object({ id: Type.String({ pattern: '^[a-z][a-z0-9_]{1,40}$' }) }), querystring: KpiQuerySchema } },
    async (req) => {
      if (!registry.get(req.params.id)) throw new AppError(404, 'unknown_kpi', `no KPI "${req.params.id}"; GET /api/v1/kpi lists them`);
      const q = req.query;
      const own = await ownOnly(deps, req);
      if (own !== null && q.doctor !== undefined && q.doctor !== own)
        throw new AppError(403, 'not_allowed', 'you may see the clinic totals and your own numbers only');
      try {
        const query: KpiQuery = {
          period: parsePeriod(q.from, q.to),
          ...(q.by ? { by: q.by as Dimension } : {}),
          ...(q.compare ? { compare: q.compare } : {}),
          filters: { ...(q.doctor ? { doctor: q.doctor } : {}), ...(q.direction ? { direction: q.direction } : {}) },
          params: { ...(q.days ? { days: q.days } : {}), ...(q.scope ? { scope: q.scope } : {}) },
        };
        if (own !== null && query.by && query.by !== 'doctor') query.filters = { ...query.filters, doctor: own };
        const result = await runner.run(req.session.portalId, req.params.id, query, q.lang ?? 'ru');
        if (own !== null && query.by === 'doctor') result.rows = result.rows.filter((r) => r.doctor?.id === own);
        return result;
      } catch (e) {
        return kpiError(e);
      }
    },
  );

  app.get(
    '/doctor-signal',
    {
      preHandler: requireAdmin,
      schema: {
        querystring: Type.Object(
          {
            from: DateString,
            to: DateString,
            days: Type.Optional(Type.String({ pattern: '^\\d{1,3}$' })),
            scope: Type.Optional(Type.Union([Type.Literal('clinic'), Type.Literal('doctor')])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      try {
        return await doctorSignal(runner, req.session.portalId, parsePeriod(req.query.from, req.query.to), {
          ...(req.query.days ? { days: req.query.days } : {}),
          ...(req.query.scope ? { scope: req.query.scope } : {}),
        });
      } catch (e) {
        return kpiError(e);
      }
    },
  );
};
