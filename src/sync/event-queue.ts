// CRM events as sync triggers. Bitrix24 sends only `data[FIELDS][ID]`; a burst of edits to one deal
// sends many events. The queue coalesces IDs per portal for a few seconds, then applies them in one
// targeted run. If a sync of the portal is running, the IDs wait for the next flush; nothing is lost.
import { SyncBusyError, type EventChanges, type RunSummary, type SyncEngine } from './engine.js';

export type CrmEventName =
  | 'ONCRMDEALADD'
  | 'ONCRMDEALUPDATE'
  | 'ONCRMDEALDELETE'
  | 'ONCRMDEALMOVETOCATEGORY'
  | 'ONCRMCONTACTADD'
  | 'ONCRMCONTACTUPDATE'
  | 'ONCRMCONTACTDELETE';

export const SYNC_EVENTS: CrmEventName[] = [
  'ONCRMDEALADD',
  'ONCRMDEALUPDATE',
  'ONCRMDEALDELETE',
  'ONCRMDEALMOVETOCATEGORY',
  'ONCRMCONTACTADD',
  'ONCRMCONTACTUPDATE',
  'ONCRMCONTACTDELETE',
];

const empty = (): EventChanges => ({
  deals: { changed: new Set(), deleted: new Set() },
  contacts: { changed: new Set(), deleted: new Set() },
});

export class EventQueue {
  private readonly pending = new Map<string, EventChanges>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<RunSummary | null>>();

  constructor(
    private readonly engine: Pick<SyncEngine, 'applyEvents'>,
    private readonly opts: { coalesceMs?: number; retryMs?: number; onRun?: (portalId: string, run: RunSummary) => void } = {},
  ) {}

  /** Records one event; unknown event names are ignored (returns false). */
  push(portalId: string, event: string, id: number): boolean {
    const name = event.toUpperCase() as CrmEventName;
    if (!SYNC_EVENTS.includes(name) || !Number.isInteger(id) || id <= 0) return false;
    const c = this.pending.get(portalId) ?? empty();
    this.pending.set(portalId, c);
    const target = name.startsWith('ONCRMDEAL') ? c.deals : c.contacts;
    if (name.endsWith('DELETE')) target.deleted.add(id);
    else target.changed.add(id);
    this.schedule(portalId, this.opts.coalesceMs ?? 3_000);
    return true;
  }

  private schedule(portalId: string, ms: number): void {
    if (this.timers.has(portalId)) return;
    this.timers.set(
      portalId,
      setTimeout(() => {
        this.timers.delete(portalId);
        void this.flush(portalId);
      }, ms),
    );
  }

  /** Applies what is pending for a portal now. */
  async flush(portalId: string): Promise<RunSummary | null> {
    const inFlight = this.running.get(portalId);
    if (inFlight) await inFlight;
    const changes = this.pending.get(portalId);
    if (!changes) return null;
    this.pending.delete(portalId);
    const p = (async () => {
      try {
        const run = await this.engine.applyEvents(portalId, changes);
        this.opts.onRun?.(portalId, run);
        if (run.status === 'failed') this.requeue(portalId, changes);
        return run;
      } catch (e) {
        if (!(e instanceof SyncBusyError)) throw e;
        this.requeue(portalId, changes);
        return null;
      }
    })();
    this.running.set(portalId, p);
    try {
      return await p;
    } finally {
      this.running.delete(portalId);
    }
  }

  private requeue(portalId: string, changes: EventChanges): void {
    const c = this.pending.get(portalId) ?? empty();
    for (const k of ['deals', 'contacts'] as const) {
      changes[k].changed.forEach((id) => c[k].changed.add(id));
      changes[k].deleted.forEach((id) => c[k].deleted.add(id));
    }
    this.pending.set(portalId, c);
    this.schedule(portalId, this.opts.retryMs ?? 30_000);
  }

  /** Stops timers (shutdown); pending IDs are left for the next incremental run. */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
