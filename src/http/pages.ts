// The pages Bitrix24 opens in its iframe: the main page (DEFAULT) and the manifest's placements,
// opened by POST (reference §5.2), are the Vue dashboard built into frontend/dist (frontend/build.mjs);
// the install page is one small HTML page whose script (src/portal-app/page/main.ts, bundled once with
// esbuild) initialises the SDK frame and calls installFinish.
//
// Framing: `frame-ancestors` names only the origin of a portal that installed the app — found by the
// member_id Bitrix24 posts, or the DOMAIN it puts in the query — so no other site can frame us.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import type { Manifest } from '../portal-app/manifest.js';
import { portalIdsByDomain } from '../portal-app/store.js';
import { registryAnswer } from './api/kpi.js';
import { AppError } from './errors.js';

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

export function framingCsp(origins: string[], extra: Record<string, string[]> = {}): string {
  const d = { ...CSP_DIRECTIVES, ...extra, 'frame-ancestors': origins.length ? [...new Set(origins)] : ["'none'"] };
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

/** The built dashboard (frontend/build.mjs writes it on install and before start). */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../frontend/dist/', import.meta.url));
/** ApexCharts writes style attributes into its SVG; scripts stay 'self' only. */
const DASHBOARD_CSP = { 'style-src': ["'self'", "'unsafe-inline'"] };

/** The KPI registry as the page's data block: fixed for the process, so written once. */
const REGISTRY_JSON = JSON.stringify(registryAnswer()).replace(/</g, '\\u003c');

/** Read on every request (it is small): a rebuild changes the hashed asset names it points to. */
async function dashboardPage(o: { lang: PageLang; demo: boolean }): Promise<string> {
  const html = await readFile(`${DASHBOARD_DIST}index.html`, 'utf8');
  // The page reads its language (until the SDK tells the portal's) and the demo flag from <body>, and
  // the KPI registry (the same for everyone) from a data block, so the first view need not ask for it
  // after the session opens. A data block is not run, so the CSP's script-src does not apply.
  return html
    .replace('<body>', `<body data-lang="${o.lang}" data-mode="${o.demo ? 'demo' : 'portal'}">`)
    .replace('</body>', () => `<script type="application/json" id="kpi-registry">${REGISTRY_JSON}</script>\n</body>`);
}

export interface PageDeps {
  db: Kysely<Database>;
  portals: PortalRepo;
  manifest: Manifest;
  /** Demo mode: the page may run outside a portal frame, as the demo portal's administrator. */
  demo?: DemoFrame;
}

/** What the demo's emulated portal would give the page in its frame: the administrator's token. */
export interface DemoFrame {
  frameAuth(): Promise<{ accessToken: string; memberId: string; domain: string }> | { accessToken: string; memberId: string; domain: string };
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
    reply.header('content-security-policy', framingCsp(origins, DASHBOARD_CSP));
    reply.header('cache-control', 'no-store');
    let html: string;
    try {
      html = await dashboardPage({ lang: req.query.LANG === 'en' ? 'en' : 'ru', demo: deps.demo !== undefined });
    } catch {
      throw new AppError(503, 'dashboard_not_built', 'the dashboard is not built: run `npm ci` (or `node frontend/build.mjs`) and restart');
    }
    return reply.type('text/html; charset=utf-8').send(html);
  };
  for (const url of paths) {
    // Bitrix24 opens these by POST (§5.2); GET serves reloads and the install page's hand-over.
    app.get(url, { schema: { querystring: FrameQuery } }, page);
    app.post(url, { bodyLimit: 64 * 1024, schema: { querystring: FrameQuery, body: PageBody } }, page);
  }

  if (deps.demo) {
    // Only in demo mode (a generated clinic on an emulated portal, on this machine): the page opened
    // outside a frame gets the demo administrator's frame token and opens a session as in a portal.
    const demo = deps.demo;
    app.post('/demo/frame-auth', { schema: {} }, async (_req, reply) => reply.header('cache-control', 'no-store').send(await demo.frameAuth()));
  }

  // The dashboard's built files: content-hashed names, so they may be cached for good.
  app.get('/assets/:file', { schema: { params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}\\.(js|css|svg|woff2)$' }) }) } }, async (req, reply) => {
    const file = req.params.file;
    let body: Buffer;
    try {
      body = await readFile(`${DASHBOARD_DIST}assets/${file}`);
    } catch {
      throw new AppError(404, 'not_found', `no asset ${file}`);
    }
    const type = file.endsWith('.js') ? 'text/javascript; charset=utf-8' : file.endsWith('.css') ? 'text/css; charset=utf-8' : file.endsWith('.svg') ? 'image/svg+xml' : 'font/woff2';
    return reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').send(body);
  });

  app.get('/assets/app-page.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await pageScript()),
  );
  app.get('/assets/app-page.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(CSS));
};

