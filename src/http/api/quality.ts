// Admin: the visits behind a data-quality count (GET /settings/quality), newest first, so the admin can
// open each deal in the portal and fix it: without a patient, without a doctor, with zero or negative
// rows. Reads the clinic facts as they are after a refresh, like the counts.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clinicServices } from '../../kpi/services.js';
import { requireAdmin } from '../auth.js';
import type { ApiDeps } from './index.js';

const KINDS = ['withoutPatient', 'withoutDoctor', 'withBadRows'] as const;

export const qualityRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, deps) => {
  const { facts } = clinicServices(deps.db);
  app.get(
    '/quality/visits',
    {
      preHandler: requireAdmin,
      schema: {
        querystring: Type.Object(
          {
            kind: Type.Union(KINDS.map((k) => Type.Literal(k)), { examples: ['withoutDoctor'] }),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, examples: [20] })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const portalId = req.session.portalId;
      await facts.refresh(portalId);
      const { kind } = req.query;
      let q = deps.db.selectFrom('clinic_visit').where('portal_id', '=', portalId);
      q = kind === 'withoutPatient' ? q.where('patient_id', 'is', null) : kind === 'withoutDoctor' ? q.where('doctor_id', 'is', null) : q.where('bad_rows', '>', 0);
      const rows = await q
        .select(['deal_id', 'visit_date', 'revenue_minor', 'doctor_id'])
        .orderBy('visit_date', 'desc')
        .orderBy('deal_id', 'desc')
        .limit(req.query.limit ?? 50)
        .execute();
      return { kind, visits: rows.map((r) => ({ dealId: Number(r.deal_id), date: r.visit_date, revenue: Number(r.revenue_minor) / 100, doctorId: r.doctor_id })) };
    },
  );
};
