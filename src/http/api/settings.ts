// Clinic settings (admin only): the mapping of CRM fields to the clinic model, with the portal's own
// pipelines, stages, deal user fields, sources and users offered as choices so the dashboard can build
// the form, what detection proposes, and the data-quality counts of the current facts. Saving new
// settings rebuilds the facts (in the background; KPIs wait for it if asked meanwhile).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { dataQuality } from '../../clinic/quality.js';
import { detectSettings, loadStoredSettings, saveSettings, SettingsError } from '../../clinic/settings.js';
import type { Database } from '../../db/schema.js';
import { clinicServices } from '../../kpi/services.js';
import { requireAdmin } from '../auth.js';
import { AppError } from '../errors.js';
import { NoQuery } from '../schemas.js';
import type { ApiDeps } from './index.js';

export async function settingsChoices(db: Kysely<Database>, portalId: string) {
  const [pipelines, stages, fields, sources, users] = await Promise.all([
    db.selectFrom('b24_pipeline').select(['id', 'name']).where('portal_id', '=', portalId).orderBy('sort').orderBy('id').execute(),
    db
      .selectFrom('b24_status')
      .select(['status_id', 'name', 'category_id', 'semantics', 'entity_id'])
      .where('portal_id', '=', portalId)
      .where('entity_id', 'like', 'DEAL_STAGE%')
      .orderBy('sort')
      .execute(),
    db
      .selectFrom('b24_user_field')
      .select(['field_name', 'user_type_id', 'label', 'enum_items', 'multiple'])
      .where('portal_id', '=', portalId)
      .where('entity_id', '=', 'CRM_DEAL')
      .orderBy('field_name')
      .execute(),
    db.selectFrom('b24_status').select(['status_id', 'name']).where('portal_id', '=', portalId).where('entity_id', '=', 'SOURCE').orderBy('sort').execute(),
    db.selectFrom('b24_user').select(['id', 'name', 'last_name', 'active']).where('portal_id', '=', portalId).orderBy('last_name').execute(),
  ]);
  const catOf = (s: (typeof stages)[number]) => s.category_id ?? (s.entity_id === 'DEAL_STAGE' ? 0 : Number(s.entity_id.slice(11)));
  return {
    pipelines: pipelines.map((p) => ({
      id: p.id,
      name: p.name,
      stages: stages.filter((s) => catOf(s) === p.id).map((s) => ({ id: s.status_id, name: s.name, semantics: s.semantics })),
    })),
    userFields: fields.map((f) => ({
      field: f.field_name,
      type: f.user_type_id,
      label: f.label,
      multiple: f.multiple === 1,
      items: JSON.parse(f.enum_items) as unknown[],
    })),
    sources: sources.map((s) => ({ id: s.status_id, name: s.name })),
    users: users.map((u) => ({ id: u.id, name: [u.last_name, u.name].filter(Boolean).join(' '), active: u.active === 1 })),
  };
}

export const settingsRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, deps) => {
  app.addHook('preHandler', requireAdmin);
  const { facts } = clinicServices(deps.db);

  app.get('/settings', { schema: { querystring: NoQuery } }, async (req) => {
    const portalId = req.session.portalId;
    const [stored, choices, detected] = await Promise.all([
      loadStoredSettings(deps.db, portalId),
      settingsChoices(deps.db, portalId),
      detectSettings(deps.db, portalId),
    ]);
    return { settings: stored.settings, version: stored.version, choices, detected };
  });

  app.put('/settings', { bodyLimit: 64 * 1024, schema: { body: Type.Object({ settings: Type.Unknown() }, { additionalProperties: false }) } }, async (req) => {
    const portalId = req.session.portalId;
    try {
      const saved = await saveSettings(deps.db, portalId, req.body.settings, req.session.userId);
      // Rebuild now rather than on the next KPI request; a failure shows on that request.
      facts.refresh(portalId).catch((e: unknown) => req.log.error({ err: e, portalId }, 'fact rebuild after settings change failed'));
      return { settings: saved.settings, version: saved.version };
    } catch (e) {
      if (e instanceof SettingsError) throw new AppError(400, 'bad_settings', e.message, { problems: e.problems });
      throw e;
    }
  });

  app.get('/settings/quality', { schema: { querystring: NoQuery } }, async (req) => {
    const portalId = req.session.portalId;
    await facts.refresh(portalId);
    const build = await deps.db.selectFrom('clinic_build').selectAll().where('portal_id', '=', portalId).executeTakeFirst();
    return {
      quality: await dataQuality(deps.db, portalId),
      build: build ? { kind: build.kind, builtAt: build.built_at, syncedAt: build.synced_at, deals: build.deals, ms: build.ms } : null,
    };
  });
};
