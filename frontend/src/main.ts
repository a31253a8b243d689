// Bootstrap: Bitrix24 frame (once, with a timeout) → app session → the views (the KPI registry comes
// with the page). The shell shows one status line until then; opened outside Bitrix24 it says so
// (except in demo mode).
import './style.css';
import { createApp, reactive } from 'vue';
import App from './App.vue';
import { Api } from './lib/api.js';
import { loadChartLib } from './lib/chart-lib.js';
import { APP, type AppContext } from './lib/context.js';
import { kpiUrl, parseFilters, rangeOf } from './lib/filters.js';
import { createFormatter } from './lib/format.js';
import { connectHost, OutsidePortalError, type Host } from './lib/frame.js';
import { prefetchKpi } from './lib/kpi.js';
import { cardRequests, hashRoute, overviewCardIds, trendRequest } from './lib/overview.js';
import { localToday } from './lib/period.js';
import type { KpiMeta } from './lib/types.js';
import { makeI18n, type Lang } from './i18n.js';
import { router } from './router.js';

const body = document.body.dataset;
const pageLang: Lang = body.lang === 'en' ? 'en' : 'ru';
const demo = body.mode === 'demo';

export const boot = reactive({ state: 'connecting' as 'connecting' | 'ready' | 'error' | 'outside', message: '' });

const i18n = makeI18n(pageLang);
const app = createApp(App);
app.use(i18n);
app.provide('boot', boot);

async function start(): Promise<void> {
  // Charts load while the frame and the session are set up.
  void loadChartLib().catch(() => undefined);
  let host: Host;
  try {
    host = await connectHost(body.mode ?? 'portal', pageLang);
  } catch (e) {
    boot.state = e instanceof OutsidePortalError ? 'outside' : 'error';
    boot.message = e instanceof Error ? e.message : String(e);
    return;
  }
  performance.mark('frame-ready');
  i18n.global.locale.value = host.lang;
  if (host.installMode) {
    // Opened in install mode on the main page: the server installed the app already (ONAPPINSTALL).
    await host.installFinish();
    return;
  }
  const api = new Api((fresh) => host.auth(fresh));
  const session = await api.open();
  performance.mark('session-ready');
  // The registry rides in the page (src/http/pages.ts); asked for only when it does not (vite's dev server).
  const embedded = document.getElementById('kpi-registry')?.textContent;
  const { kpis } = embedded ? (JSON.parse(embedded) as { kpis: KpiMeta[] }) : await api.get<{ kpis: KpiMeta[] }>('/api/v1/kpi');
  performance.mark('registry-ready');
  // Opening on Обзор: its requests go out now, the trend first, not after the shell has mounted.
  const opening = hashRoute(location.hash);
  if (opening.path === '/') {
    const f = parseFilters(opening.query);
    const range = rangeOf(f, localToday());
    const reqs = [trendRequest(f, range), ...overviewCardIds(kpis).flatMap((id) => cardRequests(id, f))];
    for (const req of reqs) prefetchKpi(api, kpiUrl(req, range, f, host.lang));
  }
  const t = i18n.global.t;
  const fmt = createFormatter(host.lang === 'en' ? 'en-GB' : 'ru-RU', t('panel.noData'), host.lang === 'en' ? 'pp' : 'п. п.');
  const byId = new Map(kpis.map((k) => [k.id, k]));
  const ctx: AppContext = {
    api,
    host,
    session,
    fmt,
    lang: host.lang,
    demo,
    kpis: byId,
    label: (id) => byId.get(id)?.label[host.lang] ?? id,
    unit: (id) => byId.get(id)?.unit ?? 'count',
  };
  app.provide(APP, ctx);
  app.use(router);
  boot.state = 'ready';
  // Resize the portal's frame whenever the content changes height.
  new ResizeObserver(() => host.fit()).observe(document.body);
}

app.mount('#app');
start().catch((e: unknown) => {
  boot.state = 'error';
  boot.message = e instanceof Error ? e.message : String(e);
});
