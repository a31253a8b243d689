// Monthly plans: read and write (admin), and MTD/YTD progress against them (everyone may see the
// clinic's; a doctor's own progress by non-admins when settings allow only their own numbers).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { today } from '../../clinic/calendar.js';
import { listPlans, PlanError, planProgress, PlanSchema, savePlans } from '../../kpi/plans.js';
import { clinicServices } from '../../kpi/services.js';
import { requireAdmin } from '../auth.js';
import { AppError } from '../errors.js';
import { kpiError } from './kpi.js';
import type { ApiDeps } from './index.js';

export const planRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, deps) => {
  const { runner } = clinicServices(deps.db);

  app.get(
    '/plans',
    { preHandler: requireAdmin, schema: { querystring: Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2100 }) }, { additionalProperties: false }) } },
    async (req) => ({ plans: await listPlans(deps.db, req.session.portalId, req.query.year) }),
  );

  app.put(
    '/plans',
    {
      preHandler: requireAdmin,
      bodyLimit: 256 * 1024,
      schema: { body: Type.Object({ plans: Type.Array(PlanSchema, { maxItems: 2000 }) }, { additionalProperties: false }) },
    },
    async (req) => {
      try {
        await savePlans(deps.db, req.session.portalId, req.body.plans);
      } catch (e) {
        if (e instanceof PlanError) throw new AppError(400, 'bad_plan', e.message);
        throw e;
      }
      return { saved: req.body.plans.length };
    },
  );

  app.get(
    '/plans/progress',
    {
      schema: {
        querystring: Type.Object(
          {
            date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
            scope: Type.Optional(Type.Union([Type.Literal('clinic'), Type.Literal('direction'), Type.Literal('doctor')])),
            scopeId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const portalId = req.session.portalId;
      const { settings } = await clinicServices(deps.db).facts.ensureFresh(portalId);
      const scope = req.query.scope ?? 'clinic';
      const scopeId = scope === 'clinic' ? '' : req.query.scopeId;
      if (scopeId === undefined) throw new AppError(400, 'bad_query', `scopeId is required for scope "${scope}"`);
      if (!req.session.isAdmin && settings.access.othersSee === 'own' && scope !== 'clinic' && !(scope === 'doctor' && scopeId === String(req.session.userId)))
        throw new AppError(403, 'not_allowed', 'you may see the clinic totals and your own numbers only');
      try {
        return await planProgress(deps.db, runner, portalId, req.query.date ?? today(settings.timeZone), scope, scopeId);
      } catch (e) {
        if (e instanceof PlanError) throw new AppError(400, 'bad_query', e.message);
        return kpiError(e);
      }
    },
  );
};
