// The pages Bitrix24 opens in its iframe: the main page (DEFAULT) and the manifest's placements,
// opened by POST (reference §5.2), and the install page. Until the Vue dashboard lands they are one
// small HTML page whose script (src/portal-app/page/main.ts, bundled once with esbuild) initialises
// the SDK frame, opens the session and shows who is looking and how fresh the data is.
//
// Framing: `frame-ancestors` names only the origin of a portal that installed the app — found by the
// member_id Bitrix24 posts, or the DOMAIN it puts in the query — so no other site can frame us.
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import type { Manifest } from '../portal-app/manifest.js';
import { portalIdsByDomain } from '../portal-app/store.js';

/** The Content-Security-Policy of every response; pages replace frame-ancestors. */
export const CSP_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export function framingCsp(origins: string[]): string {
  const d = { ...CSP_DIRECTIVES, 'frame-ancestors': origins.length ? [...new Set(origins)] : ["'none'"] };
  return Object.entries(d)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

export type PageLang = 'ru' | 'en';

/** The query Bitrix24 adds to every URL it opens in its iframe. */
export const FrameQuery = Type.Object({
  DOMAIN: Type.Optional(Type.String({ maxLength: 255 })),
  PROTOCOL: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')])),
  LANG: Type.Optional(Type.String({ pattern: '^[a-z]{2}$' })),
  APP_SID: Type.Optional(Type.String({ maxLength: 64 })),
});

const TEXT = {
  ru: { title: 'Аналитика клиники', connecting: 'Подключение к Битрикс24…', user: 'Пользователь', sync: 'Синхронизация', installing: 'Завершение установки…' },
  en: { title: 'Clinic analytics', connecting: 'Connecting to Bitrix24…', user: 'User', sync: 'Sync', installing: 'Finishing the installation…' },
} as const;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderPage(o: { kind: 'main' | 'install' | 'error'; lang: PageLang; message?: string }): string {
  const t = TEXT[o.lang];
  const body =
    o.kind === 'error'
      ? `<p id="status" data-state="error">${escapeHtml(o.message ?? '')}</p>`
      : `<p id="status" data-state="loading">${o.kind === 'install' ? t.installing : t.connecting}</p>
    <dl id="facts" hidden>
      <dt>${t.user}</dt><dd id="user-name"></dd>
      <dt>${t.sync}</dt><dd id="sync-state"></dd>
    </dl>
    <div id="runs"></div>`;
  return `<!doctype html>
<html lang="${o.lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${t.title}</title>
  <link rel="stylesheet" href="/assets/app-page.css">
</head>
<body data-page="${o.kind}" data-lang="${o.lang}">
  <main>
    <h1>${t.title}</h1>
    ${body}
  </main>
  ${o.kind === 'error' ? '' : '<script src="/assets/app-page.js"></script>'}
</body>
</html>
`;
}

const CSS = `body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1f2a33;background:#fff}
main{padding:16px 24px;max-width:960px}h1{font-size:20px;font-weight:600;margin:0 0 12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 12px}dt{color:#6a737f}dd{margin:0}
[data-state=error]{color:#b3261e}table{border-collapse:collapse}td,th{padding:3px 10px 3px 0;text-align:left;font-weight:normal}
th{color:#6a737f}
`;

const ENTRY = fileURLToPath(new URL('../portal-app/page/main.ts', import.meta.url));
let bundle: Promise<string> | undefined;

/** The page script: bundled on first use (the SDK for the browser), then served from memory. */
export function pageScript(): Promise<string> {
  bundle ??= (async () => {
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [ENTRY], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, write: false, logLevel: 'silent' });
    return out.outputFiles[0]!.text;
  })();
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

export interface PageDeps {
  db: Kysely<Database>;
  portals: PortalRepo;
  manifest: Manifest;
}

export const pageRoutes: FastifyPluginAsyncTypebox<PageDeps> = async (app, deps) => {
  /** Origins of the registered portal this request comes from (member_id first, then DOMAIN). */
  const portalOrigins = async (memberId: string | undefined, domain: string | undefined): Promise<string[]> => {
    const ids = memberId ? [memberId] : domain ? await portalIdsByDomain(deps.db, domain) : [];
    const out: string[] = [];
    for (const id of ids.slice(0, 5)) {
      const p = await deps.portals.get(id);
      if (p && p.status !== 'uninstalled') out.push(new URL(p.clientEndpoint).origin);
    }
    return out;
  };

  const PageBody = Type.Object({
    member_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
    PLACEMENT: Type.Optional(Type.String({ maxLength: 64 })),
  });
  const paths = [deps.manifest.paths.handler, ...deps.manifest.placements.map((p) => p.path)];
  const page = async (req: FastifyRequest<{ Querystring: Static<typeof FrameQuery>; Body: Static<typeof PageBody> | undefined }>, reply: FastifyReply) => {
    const origins = await portalOrigins(req.body?.member_id, req.query.DOMAIN);
    reply.header('content-security-policy', framingCsp(origins));
    reply.header('cache-control', 'no-store');
    return reply.type('text/html; charset=utf-8').send(renderPage({ kind: 'main', lang: req.query.LANG === 'en' ? 'en' : 'ru' }));
  };
  for (const url of paths) {
    // Bitrix24 opens these by POST (§5.2); GET serves reloads and the install page's hand-over.
    app.get(url, { schema: { querystring: FrameQuery } }, page);
    app.post(url, { bodyLimit: 64 * 1024, schema: { querystring: FrameQuery, body: PageBody } }, page);
  }

  app.get('/assets/app-page.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await pageScript()),
  );
  app.get('/assets/app-page.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(CSS));
};

