// Browser script of the app's pages inside the Bitrix24 iframe (bundled by src/http/pages.ts). It
// does what the dashboard will do on start: initialise the SDK frame, finish an install, exchange
// the frame's token for an app session (POST /api/session), then show the user and the sync state.
// The session token stays in memory and goes out as a bearer token; on a 401 the page gets a fresh
// frame token and a new session once.
import { initializeB24Frame, type B24Frame } from '@bitrix24/b24jssdk';

interface SessionAnswer {
  token: string;
  expiresAt: string;
  user: { id: number; name: string; isAdmin: boolean };
  portal: { memberId: string; domain: string; sync: { auth: string; state: string; lastSyncedAt: string | null } };
}

interface Run {
  id: number;
  mode: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  entities: Record<string, { fetched: number; upserted: number; deleted: number }>;
  error: string | null;
}

interface SyncStatus {
  auth: string;
  running: Run | null;
  runs: Run[];
  lastError: string | null;
}

const lang = document.body.dataset.lang === 'en' ? 'en' : 'ru';
const T = {
  ru: {
    outside: 'Эта страница открывается внутри Битрикс24.',
    noInstallPath: 'Приложение открыто в режиме установки, но путь установки не указан как /b24/install. Проверьте настройки локального приложения.',
    failed: 'Не удалось открыть приложение',
    states: { never: 'ещё не выполнялась', running: 'идёт', finished: 'завершена', failed: 'с ошибкой' } as Record<string, string>,
    needsReauth: 'нужна повторная авторизация',
    last: 'данные на',
    admin: 'администратор',
  },
  en: {
    outside: 'This page opens inside Bitrix24.',
    noInstallPath: 'The app was opened in install mode, but its installation path is not /b24/install. Check the local app settings.',
    failed: 'The app could not be opened',
    states: { never: 'never run', running: 'running', finished: 'finished', failed: 'failed' } as Record<string, string>,
    needsReauth: 'needs re-authorisation',
    last: 'data as of',
    admin: 'administrator',
  },
}[lang];

const $ = (id: string) => document.getElementById(id)!;

function status(text: string, state: 'loading' | 'ready' | 'error'): void {
  const el = $('status');
  el.textContent = text;
  el.dataset.state = state;
}

function timeout(ms: number): Promise<never> {
  return new Promise((_r, reject) => setTimeout(() => reject(new Error(`no answer from Bitrix24 within ${ms} ms`)), ms));
}

async function frameToken($b24: B24Frame, fresh: boolean): Promise<{ accessToken: string; memberId: string; domain: string }> {
  let auth = fresh ? false : $b24.auth.getAuthData();
  if (auth === false) auth = await $b24.auth.refreshAuth();
  return { accessToken: auth.access_token, memberId: auth.member_id, domain: new URL(auth.domain).host };
}

async function openSession($b24: B24Frame, fresh = false): Promise<SessionAnswer> {
  const res = await fetch('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(await frameToken($b24, fresh)),
  });
  const body = (await res.json()) as SessionAnswer & { error?: string; message?: string };
  if (!res.ok) throw new Error(body.message ?? body.error ?? `HTTP ${res.status}`);
  return body;
}

function fmt(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(lang === 'en' ? 'en-GB' : 'ru-RU') : '—';
}

function renderSync(s: SessionAnswer['portal']['sync'], detail?: SyncStatus): void {
  const el = $('sync-state');
  const running = detail ? !!detail.running : s.state === 'running';
  const state = running ? 'running' : detail?.runs[0] ? (detail.runs[0].status === 'failed' ? 'failed' : 'finished') : s.state;
  el.dataset.state = state;
  el.dataset.auth = detail?.auth ?? s.auth;
  let text = T.states[state] ?? state;
  if ((detail?.auth ?? s.auth) === 'needs_reauth') text += ` (${T.needsReauth})`;
  if (detail?.running) {
    const e = detail.running.entities;
    text += `: ${Object.entries(e)
      .map(([k, v]) => `${k} ${v.upserted}`)
      .join(', ')}`;
  }
  const lastSyncedAt = detail ? (detail.runs.find((r) => r.status === 'finished' && r.mode !== 'events')?.finishedAt ?? null) : s.lastSyncedAt;
  if (lastSyncedAt) text += ` · ${T.last} ${fmt(lastSyncedAt)}`;
  el.textContent = text;
  if (detail) {
    const rows = detail.runs
      .slice(0, 5)
      .map((r) => `<tr><td>${r.id}</td><td>${r.mode}</td><td>${r.status}</td><td>${fmt(r.startedAt)}</td><td>${fmt(r.finishedAt)}</td></tr>`)
      .join('');
    $('runs').innerHTML = rows ? `<table><tbody>${rows}</tbody></table>` : '';
    if (detail.lastError) {
      const p = document.createElement('p');
      p.dataset.state = 'error';
      p.textContent = detail.lastError;
      $('runs').append(p);
    }
  }
}

async function main(): Promise<void> {
  let $b24: B24Frame;
  try {
    $b24 = await Promise.race([initializeB24Frame(), timeout(10_000)]);
  } catch {
    status(T.outside, 'error');
    return;
  }
  const page = document.body.dataset.page;
  if (page === 'install') {
    // The server has stored the portal and bound events; the portal shows the app once this is called.
    if ($b24.isInstallMode) await $b24.installFinish();
    else location.replace(`/${location.search}`);
    return;
  }
  if ($b24.isInstallMode) {
    status(T.noInstallPath, 'error');
    return;
  }
  let session = await openSession($b24);
  const api = async <T>(path: string): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(path, { headers: { authorization: `Bearer ${session.token}` } });
      if (res.status === 401 && attempt === 0) {
        session = await openSession($b24, true);
        continue;
      }
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      return (await res.json()) as T;
    }
  };
  $('user-name').textContent = session.user.name + (session.user.isAdmin ? ` (${T.admin})` : '');
  $('user-name').dataset.userId = String(session.user.id);
  $('facts').hidden = false;
  renderSync(session.portal.sync);
  status(session.portal.domain, 'ready');
  await $b24.parent.fitWindow();
  if (!session.user.isAdmin) return;
  // Admins see the run log; while a run is going, it refreshes.
  for (;;) {
    const detail = await api<SyncStatus>('/api/v1/sync/status');
    renderSync(session.portal.sync, detail);
    await $b24.parent.fitWindow();
    if (!detail.running) break;
    await new Promise((r) => setTimeout(r, 3000));
  }
}

main().catch((e: unknown) => status(`${T.failed}: ${e instanceof Error ? e.message : String(e)}`, 'error'));
