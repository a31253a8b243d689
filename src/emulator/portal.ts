// One emulated Bitrix24 portal: its CRM data, its installed apps and their tokens, incoming
// webhooks, event bindings and offline queue, placements, and the per-portal limit state.
import { randomBytes } from 'node:crypto';
import type { Clock } from './limits.js';
import { wallClock } from './limits.js';
import { PortalData } from './store.js';

export interface InstalledApp {
  /** The app's client_id (`local.…`). */
  clientId: string;
  clientSecret: string;
  /** app.info ID */
  id: number;
  code: string;
  version: number;
  status: 'L' | 'F' | 'D' | 'T' | 'P';
  scope: string[];
  applicationToken: string;
  installed: boolean;
  handlerUrl?: string;
  installUrl?: string;
}

export interface AccessToken {
  token: string;
  clientId: string;
  userId: number;
  scope: string[];
  /** Expiry, unix milliseconds. */
  expiresAt: number;
}

export interface RefreshToken {
  token: string;
  clientId: string;
  userId: number;
  scope: string[];
  /** Used or revoked tokens answer invalid_grant. */
  used: boolean;
  expiresAt: number;
}

export interface Webhook {
  id: number;
  userId: number;
  code: string;
  scope: string[];
}

export interface EventBinding {
  id: number;
  clientId: string;
  event: string;
  handler: string;
  authType: number;
  offline: boolean;
  userId: number;
}

export interface OfflineEvent {
  ID: number;
  clientId: string;
  MESSAGE_ID: string;
  EVENT_NAME: string;
  EVENT_DATA: unknown;
  EVENT_ADDITIONAL: Record<string, unknown>;
  TIMESTAMP_X: number;
  PROCESS_ID: string | null;
}

export interface PlacementBinding {
  clientId: string;
  placement: string;
  handler: string;
  title: string;
  description: string;
  options: Record<string, unknown>;
}

export interface PortalOptions {
  domain?: string;
  memberId?: string;
  /** Offset of the portal server's clock (what `date('c')` prints), minutes east of UTC. */
  utcOffsetMinutes?: number;
  /** Portal time zone (IANA), for `profile` and the generator. */
  timeZone?: string;
  /** app.info LICENSE, e.g. `ru_pro100`. Decides the leaky-bucket tier when limits follow the plan. */
  license?: string;
  language?: string;
}

export class Portal {
  readonly data = new PortalData();
  /** Portal host. Defaults to the emulator's own `host:port` once it listens, so iframe origins,
   *  `DOMAIN` and `client_endpoint` agree as they do on a real portal. */
  domain: string;
  readonly memberId: string;
  readonly utcOffsetMinutes: number;
  readonly timeZone: string;
  readonly license: string;
  readonly language: string;
  readonly apps = new Map<string, InstalledApp>();
  readonly accessTokens = new Map<string, AccessToken>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  readonly webhooks = new Map<string, Webhook>();
  readonly bindings: EventBinding[] = [];
  readonly offlineQueue: OfflineEvent[] = [];
  readonly placements: PlacementBinding[] = [];
  private readonly extensions = new Map<string, unknown>();
  /** The portal's clock (DATE_MODIFY, event timestamps); the emulator may swap in a virtual one. */
  clock: Clock = wallClock;
  /** Where CRM changes are announced (the emulator's event bus); silent for a bare portal. */
  eventSink: (event: string, data: Record<string, unknown>, causedBy: number | null) => void = () => {};
  private seq = 0;

  constructor(opts: PortalOptions = {}) {
    this.domain = opts.domain ?? '';
    this.memberId = opts.memberId ?? randomBytes(16).toString('hex');
    this.utcOffsetMinutes = opts.utcOffsetMinutes ?? 180;
    this.timeZone = opts.timeZone ?? 'Europe/Moscow';
    this.license = opts.license ?? 'ru_pro100';
    this.language = opts.language ?? 'ru';
  }

  /** A portal-wide sequence for ids of non-CRM objects (bindings, hooks, apps, offline rows). */
  nextSeq(): number {
    return ++this.seq;
  }

  /** Per-portal state owned by a method module (e.g. BI Builder connectors), created on first use. */
  ext<T>(key: string, init: () => T): T {
    let v = this.extensions.get(key) as T | undefined;
    if (v === undefined) {
      v = init();
      this.extensions.set(key, v);
    }
    return v;
  }

  appByClientId(clientId: string): InstalledApp | undefined {
    return this.apps.get(clientId);
  }
}
