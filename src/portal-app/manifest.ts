// The app descriptor (manifest/app.json): scopes, handler paths, events, placements. Install binds
// exactly what it lists, the routes are mounted at its paths, and the README's setup steps quote it,
// so it is read — and validated — here, once.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Localized = Type.Object({ ru: Type.String({ minLength: 1 }), en: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const Path = Type.String({ pattern: '^/[A-Za-z0-9/_-]*$' });

export const ManifestSchema = Type.Object(
  {
    name: Localized,
    description: Localized,
    scopes: Type.Array(Type.String({ pattern: '^[a-z_]+$' }), { minItems: 1, uniqueItems: true }),
    paths: Type.Object({ handler: Path, install: Path, events: Path }, { additionalProperties: false }),
    events: Type.Array(Type.String({ pattern: '^ON[A-Z]+$' }), { minItems: 1, uniqueItems: true }),
    placements: Type.Array(
      Type.Object(
        { code: Type.String({ pattern: '^[A-Z_]+$' }), path: Path, title: Localized, description: Localized },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Manifest = Static<typeof ManifestSchema>;

export const MANIFEST_PATH = new URL('../../manifest/app.json', import.meta.url);

export function parseManifest(raw: unknown): Manifest {
  const err = Value.Errors(ManifestSchema, raw).First();
  if (err) throw new Error(`manifest/app.json is invalid at ${err.path || '/'}: ${err.message}`);
  const m = raw as Manifest;
  if (!m.events.includes('ONAPPUNINSTALL')) throw new Error('manifest/app.json must bind ONAPPUNINSTALL: uninstall is how a portal\'s data gets removed');
  return m;
}

let cached: Manifest | undefined;

export function loadManifest(): Manifest {
  cached ??= parseManifest(JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')));
  return cached;
}
