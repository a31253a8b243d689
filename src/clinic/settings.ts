// Per-portal clinic settings: how CRM records become clinic facts (kpi.md §1), who may see and change
// what, and the portal's time zone. One TypeBox schema is the contract for storage, the API and the
// dashboard form. A portal that never saved settings gets the defaults plus what `detect` can decide
// safely (appointment pipelines are not visits); everything else detect finds is only proposed.
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Kysely } from 'kysely';
import { validate as validateCron } from 'node-cron';
import type { Database } from '../db/schema.js';

const Int = Type.Integer({ minimum: 0 });
const UfName = Type.String({ pattern: '^UF_CRM_[A-Z0-9_]{1,50}$' });

export const ClinicSettingsSchema = Type.Object(
  {
    /** IANA zone deciding local dates and day/week/month boundaries. */
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    /** Who the patient of a deal is. */
    patient: Type.Union([Type.Literal('contact'), Type.Literal('company')]),
    visit: Type.Object(
      {
        /** Pipelines whose deals can be visits; null = every pipeline except the appointment ones. */
        pipelines: Type.Union([Type.Null(), Type.Array(Int, { maxItems: 500 })]),
        /** Stage ids per pipeline id that make a deal a visit; a pipeline not named here (or null for
         *  all) uses its success (S) stages. */
        stages: Type.Union([Type.Null(), Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Array(Type.String({ maxLength: 50 }), { maxItems: 100 }))]),
      },
      { additionalProperties: false },
    ),
    /** Which deal field dates a visit. */
    visitDate: Type.Union([
      Type.Literal('CLOSEDATE'),
      Type.Literal('BEGINDATE'),
      Type.Literal('DATE_CREATE'),
      UfName,
    ]),
    doctor: Type.Union([
      Type.Object({ source: Type.Literal('assigned') }, { additionalProperties: false }),
      Type.Object({ source: Type.Literal('user_field'), field: UfName }, { additionalProperties: false }),
    ]),
    direction: Type.Union([
      Type.Object({ source: Type.Literal('pipeline') }, { additionalProperties: false }),
      Type.Object({ source: Type.Literal('user_field'), field: UfName }, { additionalProperties: false }),
      Type.Object({ source: Type.Literal('product_section') }, { additionalProperties: false }),
    ]),
    revenue: Type.Union([Type.Literal('product_rows'), Type.Literal('opportunity')]),
    /** SOURCE_ID values that mean "по рекомендации". */
    referralSources: Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 50 }),
    appointment: Type.Object(
      {
        /** Pipelines holding appointments (записи): never visits. */
        pipelines: Type.Array(Int, { maxItems: 50 }),
        noShowStages: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 50 }),
      },
      { additionalProperties: false },
    ),
    access: Type.Object(
      {
        /** Users who see everything and change settings, besides the portal's admins. */
        adminUserIds: Type.Array(Int, { maxItems: 200 }),
        /** What other users see: everything, or the clinic's totals and their own doctor row. */
        othersSee: Type.Union([Type.Literal('all'), Type.Literal('own')]),
      },
      { additionalProperties: false },
    ),
    /** Store patients' names (personal data) — off unless a feature needs them. */
    patientNames: Type.Boolean(),
    /** This portal's sync schedule as cron expressions; null = the app's SYNC_CRON / RECONCILE_CRON. */
    schedule: Type.Object(
      {
        incremental: Type.Union([Type.Null(), Type.String({ minLength: 9, maxLength: 100 })]),
        reconcile: Type.Union([Type.Null(), Type.String({ minLength: 9, maxLength: 100 })]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ClinicSettings = Static<typeof ClinicSettingsSchema>;

export const DEFAULT_SETTINGS: ClinicSettings = {
  timeZone: 'Europe/Moscow',
  patient: 'contact',
  visit: { pipelines: null, stages: null },
  visitDate: 'CLOSEDATE',
  doctor: { source: 'assigned' },
  direction: { source: 'pipeline' },
  revenue: 'product_rows',
  referralSources: ['RECOMMENDATION'],
  appointment: { pipelines: [], noShowStages: [] },
  access: { adminUserIds: [], othersSee: 'own' },
  patientNames: false,
  schedule: { incremental: null, reconcile: null },
};

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid clinic settings: ${problems.join('; ')}`);
  }
}

/** Validates a settings object; the error names every wrong field. */
export function parseSettings(input: unknown): ClinicSettings {
  if (Value.Check(ClinicSettingsSchema, input)) {
    if (!isTimeZone(input.timeZone)) throw new SettingsError([`/timeZone: unknown time zone "${input.timeZone}"`]);
    for (const [k, v] of Object.entries(input.schedule))
      if (v !== null && !validateCron(v)) throw new SettingsError([`/schedule/${k}: not a cron expression: "${v}"`]);
    return input;
  }
  const problems = [...Value.Errors(ClinicSettingsSchema, input)].slice(0, 10).map((e) => `${e.path || '/'}: ${e.message}`);
  throw new SettingsError(problems);
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface StoredSettings {
  settings: ClinicSettings;
  /** 0 when the portal never saved settings (defaults + safe detection). */
  version: number;
  /** Hash of the effective settings: facts are rebuilt when it changes. */
  hash: string;
}

/** The portal's effective settings. */
export async function loadSettings(db: Kysely<Database>, portalId: string): Promise<ClinicSettings> {
  return (await loadStoredSettings(db, portalId)).settings;
}

export async function loadStoredSettings(db: Kysely<Database>, portalId: string): Promise<StoredSettings> {
  const row = await db
    .selectFrom('clinic_settings')
    .select(['settings', 'version'])
    .where('portal_id', '=', portalId)
    .executeTakeFirst();
  let settings: ClinicSettings;
  if (row) {
    // Stored settings were validated when saved; defaults fill fields added by later versions.
    settings = { ...DEFAULT_SETTINGS, ...(JSON.parse(row.settings) as Partial<ClinicSettings>) };
  } else {
    const proposal = await detectSettings(db, portalId);
    settings = { ...DEFAULT_SETTINGS, appointment: proposal.settings.appointment };
  }
  return { settings, version: row?.version ?? 0, hash: hashOf(settings) };
}

export async function saveSettings(
  db: Kysely<Database>,
  portalId: string,
  input: unknown,
  userId: number | null,
): Promise<StoredSettings> {
  const settings = parseSettings(input);
  const now = new Date().toISOString();
  const json = JSON.stringify(settings);
  const version = await db.transaction().execute(async (trx) => {
    const cur = await trx
      .selectFrom('clinic_settings')
      .select('version')
      .where('portal_id', '=', portalId)
      .executeTakeFirst();
    const next = (cur?.version ?? 0) + 1;
    if (cur)
      await trx
        .updateTable('clinic_settings')
        .set({ settings: json, version: next, updated_at: now, updated_by: userId })
        .where('portal_id', '=', portalId)
        .execute();
    else
      await trx
        .insertInto('clinic_settings')
        .values({ portal_id: portalId, settings: json, version: next, updated_at: now, updated_by: userId })
        .execute();
    return next;
  });
  return { settings, version, hash: hashOf(settings) };
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

export interface Detection {
  settings: ClinicSettings;
  /** Why each proposal was made, for the admin screen. */
  reasons: string[];
}

const APPOINTMENT_NAME = /запис|appointment|booking/i;
const DOCTOR_LABEL = /врач|доктор|doctor|dentist/i;
const DIRECTION_LABEL = /направлени|отделени|direction|department/i;

/**
 * Proposes a mapping from the portal's own reference data: appointment pipelines by name, an
 * employee user field on deals labelled as the doctor, an enumeration labelled as the direction
 * when the portal has a single pipeline.
 */
export async function detectSettings(db: Kysely<Database>, portalId: string): Promise<Detection> {
  const [pipelines, fields] = await Promise.all([
    db.selectFrom('b24_pipeline').select(['id', 'name']).where('portal_id', '=', portalId).orderBy('id').execute(),
    db
      .selectFrom('b24_user_field')
      .select(['field_name', 'user_type_id', 'label'])
      .where('portal_id', '=', portalId)
      .where('entity_id', '=', 'CRM_DEAL')
      .orderBy('field_name')
      .execute(),
  ]);
  const reasons: string[] = [];
  const settings: ClinicSettings = structuredClone(DEFAULT_SETTINGS);
  const appointments = pipelines.filter((p) => APPOINTMENT_NAME.test(p.name));
  settings.appointment.pipelines = appointments.map((p) => p.id);
  for (const p of appointments) reasons.push(`pipeline ${p.id} "${p.name}" holds appointments, not visits`);

  const doctorField = fields.find((f) => f.user_type_id === 'employee' && DOCTOR_LABEL.test(f.label ?? ''));
  if (doctorField) {
    settings.doctor = { source: 'user_field', field: doctorField.field_name };
    reasons.push(`deal field ${doctorField.field_name} "${doctorField.label}" names the doctor`);
  }
  const clinical = pipelines.filter((p) => !APPOINTMENT_NAME.test(p.name));
  const directionField = fields.find((f) => f.user_type_id === 'enumeration' && DIRECTION_LABEL.test(f.label ?? ''));
  if (clinical.length <= 1 && directionField) {
    settings.direction = { source: 'user_field', field: directionField.field_name };
    reasons.push(`one clinical pipeline; deal field ${directionField.field_name} "${directionField.label}" names the direction`);
  } else if (clinical.length > 1) {
    reasons.push(`${clinical.length} pipelines: each pipeline is a direction`);
  }
  return { settings, reasons };
}
