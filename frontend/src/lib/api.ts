// The app's API client: the session token from POST /api/session goes out as a bearer token; on a 401
// the client gets a fresh frame token and a new session once, then repeats the request.
import type { SessionAnswer } from './types.js';

export interface FrameAuth {
  accessToken: string;
  memberId: string;
  domain: string;
}

/** An API refusal: `code` is the server's stable error code (not_synced, admin_only, …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  session!: SessionAnswer;

  constructor(private readonly auth: (fresh: boolean) => Promise<FrameAuth>) {}

  async open(fresh = false): Promise<SessionAnswer> {
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await this.auth(fresh)),
    });
    const body = (await res.json().catch(() => ({}))) as SessionAnswer & { error?: string; message?: string };
    if (!res.ok) throw new ApiError(res.status, body.error ?? 'session_failed', body.message ?? `HTTP ${res.status}`);
    this.session = body;
    return body;
  }

  async request<T>(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<T> {
    const res = await this.send(path, init, signal);
    if (res.status === 204) return undefined as T;
    const body = (await res.json().catch(() => ({}))) as T & { error?: string; message?: string };
    if (!res.ok) throw new ApiError(res.status, body.error ?? `http_${res.status}`, body.message ?? `HTTP ${res.status}`);
    return body;
  }

  /** The raw response (the sync progress stream is read from its body). */
  async send(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${this.session.token}`);
      if (init.body !== undefined) headers.set('content-type', 'application/json');
      const res = await fetch(path, { ...init, headers, ...(signal ? { signal } : {}) });
      if (res.status === 401 && attempt === 0) {
        await this.open(true);
        continue;
      }
      return res;
    }
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, {}, signal);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PUT', body: JSON.stringify(body) });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'POST', body: JSON.stringify(body) });
  }
}
