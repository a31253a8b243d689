// Event delivery as Bitrix24's queue server does it (reference §6): a form-encoded POST per bound
// handler with `event`, `event_handler_id`, `data`, `ts`, `auth[...]` (application_token always;
// tokens of the user who caused the change), asynchronous, no retries, nothing before the install is
// finished. Offline bindings go to a queue that keeps the latest state per message
// (MESSAGE_ID = md5(event|JSON(data)), so repeated updates of one deal collapse into one row).
import { createHash } from 'node:crypto';
import type { Emulator } from './emulator.js';
import { issueTokens } from './oauth.js';
import { phpFormEncode } from './params.js';

export interface Delivery {
  event: string;
  handler: string;
  status: number | 'error';
  body: string;
  at: number;
}

export class EventBus {
  readonly deliveries: Delivery[] = [];
  private pending = new Set<Promise<void>>();

  constructor(private readonly emu: Emulator) {}

  /** Auth block of an event for one app; with a user, that user's fresh access token is added.
   *  `expires` and `user_id` in event auth are UNCONFIRMED (docs omit them); we send both, as the
   *  SDK's HandlerAuthParams type expects them. */
  authBlock(clientId: string, userId: number | null, opts: { refresh?: boolean } = {}): Record<string, string> {
    const emu = this.emu;
    const app = emu.portal.appByClientId(clientId)!;
    const base: Record<string, string> = {
      domain: emu.portal.domain,
      client_endpoint: `${emu.baseUrl}/rest/`,
      server_endpoint: `${emu.baseUrl}/rest/`,
      member_id: emu.portal.memberId,
      application_token: app.applicationToken,
    };
    if (userId === null) return base;
    const pair = issueTokens(emu, clientId, userId, app.scope);
    return {
      access_token: pair.accessToken,
      expires: String(pair.expires),
      expires_in: String(pair.expiresIn),
      scope: app.scope.join(','),
      ...base,
      status: app.status,
      user_id: String(userId),
      ...(opts.refresh ? { refresh_token: pair.refreshToken } : {}),
    };
  }

  /** A CRM change: online handlers get a POST, offline bindings a queue row. */
  emit(event: string, data: Record<string, unknown>, causedBy: number | null): void {
    const name = event.toUpperCase();
    const ts = String(Math.floor(this.emu.clock.now() / 1000));
    for (const b of this.emu.portal.bindings) {
      if (b.event !== name) continue;
      const app = this.emu.portal.appByClientId(b.clientId);
      if (!app || !app.installed) continue;
      if (b.offline) {
        this.enqueueOffline(b.clientId, name, data, causedBy);
        continue;
      }
      const actor = b.authType > 0 ? b.authType : causedBy;
      const body = phpFormEncode({ event: name, event_handler_id: String(b.id), data, ts, auth: this.authBlock(b.clientId, actor) });
      this.post(name, b.handler, body);
    }
  }

  private enqueueOffline(clientId: string, event: string, data: unknown, causedBy: number | null): void {
    // EVENT_DATA for CRM events follows the online payload ({FIELDS: {ID}}); docs only show `false`
    // (UNCONFIRMED).
    const messageId = createHash('md5').update(`${event}|${JSON.stringify(data)}`).digest('hex');
    const q = this.emu.portal.offlineQueue;
    const existing = q.find((r) => r.clientId === clientId && r.MESSAGE_ID === messageId && r.PROCESS_ID === null);
    const now = this.emu.clock.now();
    if (existing) {
      existing.TIMESTAMP_X = now;
      return;
    }
    q.push({
      ID: this.emu.portal.nextSeq(),
      clientId,
      MESSAGE_ID: messageId,
      EVENT_NAME: event,
      EVENT_DATA: data,
      EVENT_ADDITIONAL: causedBy === null ? {} : { user_id: String(causedBy) },
      TIMESTAMP_X: now,
      PROCESS_ID: null,
    });
  }

  /** Sends one form-encoded POST without retries; failures are recorded, never retried. */
  post(event: string, handler: string, body: string): Promise<void> {
    const p = (async () => {
      let status: number | 'error';
      try {
        const res = await fetch(handler, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Bitrix24 Webhook Engine' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 'error';
      }
      this.deliveries.push({ event, handler, status, body, at: this.emu.clock.now() });
    })();
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  /** Resolves when every delivery started so far has finished (tests). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
