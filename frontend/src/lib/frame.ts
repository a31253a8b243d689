// Bitrix24 around the page: initializeB24Frame() once with a timeout (getInitData never times out by
// itself when no portal answers), the frame token for the session, the portal's language, resizing
// and the slider. In demo mode a page opened at the app's own URL takes the demo portal
// administrator's token from the server instead (POST /demo/frame-auth).
import { initializeB24Frame, type B24Frame } from '@bitrix24/b24jssdk';
import type { FrameAuth } from './api.js';

export interface Host {
  kind: 'frame' | 'demo';
  lang: 'ru' | 'en';
  auth(fresh: boolean): Promise<FrameAuth>;
  fit(): void;
  /** Opens a portal path (a deal) in the Bitrix24 slider; false when there is no portal around. */
  openPath(path: string): boolean;
  installMode: boolean;
  installFinish(): Promise<void>;
}

export class OutsidePortalError extends Error {}

const FRAME_TIMEOUT_MS = 8000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<never>((_r, reject) => setTimeout(() => reject(new OutsidePortalError(`no answer from Bitrix24 within ${ms} ms`)), ms))]);
}

function frameHost($b24: B24Frame): Host {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const lang = String($b24.getLang()).toLowerCase().startsWith('ru') ? 'ru' : 'en';
  return {
    kind: 'frame',
    lang,
    installMode: $b24.isInstallMode,
    installFinish: () => $b24.installFinish().then(() => undefined),
    async auth(fresh) {
      let a = fresh ? false : $b24.auth.getAuthData();
      if (a === false) a = await $b24.auth.refreshAuth();
      return { accessToken: a.access_token, memberId: a.member_id, domain: new URL(a.domain).host };
    },
    fit() {
      // Debounced: every panel that settles asks for it.
      clearTimeout(timer);
      timer = setTimeout(() => void $b24.parent.fitWindow().catch(() => undefined), 60);
    },
    openPath(path) {
      void $b24.slider.openPath($b24.slider.getUrl(path)).catch(() => undefined);
      return true;
    },
  };
}

function demoHost(lang: 'ru' | 'en'): Host {
  return {
    kind: 'demo',
    lang,
    installMode: false,
    installFinish: async () => undefined,
    async auth() {
      const res = await fetch('/demo/frame-auth', { method: 'POST' });
      if (!res.ok) throw new Error(`demo frame auth: HTTP ${res.status}`);
      return (await res.json()) as FrameAuth;
    },
    fit() {},
    openPath: () => false,
  };
}

export async function connectHost(mode: string, pageLang: 'ru' | 'en'): Promise<Host> {
  const framed = window.parent !== window;
  if (!framed && mode === 'demo') return demoHost(pageLang);
  if (!framed) throw new OutsidePortalError('not in a frame');
  // The SDK is a static import: the page preloads it in parallel with the app's own code.
  return frameHost(await withTimeout(initializeB24Frame(), FRAME_TIMEOUT_MS));
}
