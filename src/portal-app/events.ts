// Event intake (POST /b24/events). Bitrix24's queue posts events without retries and lowers the
// priority of slow handlers, so we verify and answer at once; the work (a coalesced targeted sync, an
// uninstall) happens after the answer. Verification (reference §6.4): auth[member_id] must be a
// portal we know and auth[application_token] must equal the token stored at install, compared in
// constant time. A forged or unknown event changes nothing; it is logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { PortalClients } from '../bitrix/client.js';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import type { EventQueue } from '../sync/event-queue.js';
import { markUninstalled, purgePortal } from './store.js';

export interface EventPayload {
  event: string;
  data?: { FIELDS?: { ID?: string }; CLEAN?: string };
  auth: { member_id: string; application_token: string };
}

export type Verdict =
  | { accepted: true; action: 'queued' | 'uninstall' | 'ignored' }
  | { accepted: false; reason: 'unknown_portal' | 'bad_application_token' };

function sameSecret(a: string, b: string): boolean {
  // Hash first: timingSafeEqual needs equal lengths, and the length must not leak either.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export class EventIntake {
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: { db: Kysely<Database>; portals: PortalRepo; clients: PortalClients; queue: EventQueue; log: Logger },
  ) {}

  async verify(p: EventPayload): Promise<Verdict> {
    const portal = await this.deps.portals.get(p.auth.member_id);
    if (!portal || portal.authKind !== 'oauth') return { accepted: false, reason: 'unknown_portal' };
    const { applicationToken } = await this.deps.portals.secrets(portal.portalId);
    if (!applicationToken || !sameSecret(applicationToken, p.auth.application_token)) return { accepted: false, reason: 'bad_application_token' };
    const event = p.event.toUpperCase();
    if (event === 'ONAPPUNINSTALL') return { accepted: true, action: 'uninstall' };
    if (portal.status === 'uninstalled') return { accepted: true, action: 'ignored' };
    return { accepted: true, action: 'queued' };
  }

  /** The work after the answer. */
  dispatch(p: EventPayload, verdict: Verdict & { accepted: true }): void {
    const portalId = p.auth.member_id;
    const event = p.event.toUpperCase();
    if (verdict.action === 'uninstall') {
      this.track(this.uninstall(portalId, p.data?.CLEAN === '1' || p.data?.CLEAN === 'Y'));
      return;
    }
    if (verdict.action !== 'queued') return;
    const id = Number(p.data?.FIELDS?.ID);
    if (!this.deps.queue.push(portalId, event, id)) {
      // Leads are bound for the lead issue; the sync does not mirror them yet.
      this.deps.log.debug({ portalId, event }, 'event not used by the sync');
    }
  }

  async uninstall(portalId: string, clean: boolean): Promise<void> {
    this.deps.clients.forget(portalId);
    if (clean) {
      const deleted = await purgePortal(this.deps.db, portalId);
      this.deps.log.info({ portalId, deleted }, 'app uninstalled with CLEAN: every row of the portal deleted');
    } else {
      await markUninstalled(this.deps.db, portalId);
      this.deps.log.info({ portalId }, 'app uninstalled: portal marked uninstalled, syncs stopped');
    }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.deps.log.error({ err: e instanceof Error ? e.message : String(e) }, 'event work failed'));
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
  }

  async settle(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }
}
