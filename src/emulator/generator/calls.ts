// Telephony: the calls behind bookings (incoming with missed attempts before them, admins' outgoing
// calls), reminder calls the day before, calls to and from leads, and some spam. Missed calls are far
// more frequent at the morning and evening peaks — what peak_lost_calls is meant to show. Every call
// bound to a CRM record also gets its timeline activity, as Bitrix24's telephony writes one.
import type { PortalData } from '../store.js';
import type { Booking } from './journeys.js';
import type { LeadSpec } from './leads.js';
import type { Rng } from './random.js';
import type { Branch } from './staff.js';
import { at, DAY_MS, localDayOf, localHour, MINUTE } from './time.js';

/** Local hours [9, 11) and [17, 19): when everyone calls and the front desk is busiest. */
export function isPeakHour(hour: number): boolean {
  return hour === 9 || hour === 10 || hour === 17 || hour === 18;
}

const missProbability = (ms: number): number => (isPeakHour(localHour(ms)) ? 0.22 : 0.06);

const REASONS: Record<string, string> = {
  '200': 'Success call',
  '304': 'Skipped call',
  '486': 'Busy here',
  '480': 'Temporarily Unavailable',
  '603': 'Decline',
};

interface CallSpec {
  start: number;
  type: 1 | 2;
  dur: number;
  code: string;
  user: number;
  phone: string;
  portalNumber: string;
  entity: 'CONTACT' | 'LEAD' | null;
  entityId: number;
  seq: number;
}

/** Decides reminder calls; the appointment pipeline moves to "Подтвержден" when one is answered. */
export function planReminders(rng: Rng, bookings: Booking[], apptSinceMs: number, asOfMs: number): void {
  for (const b of bookings) {
    if (b.channel === 'walkin' || b.companion || !b.patient) continue;
    const bookedDay = localDayOf(b.bookedAt);
    if (b.day - bookedDay < 2) continue;
    if (!rng.chance(b.bookedAt >= apptSinceMs ? 0.75 : 0.3)) continue;
    const t = at(b.day - 1, rng.int(10 * 60, 19 * 60), rng.int(0, 59));
    if (t <= b.bookedAt || t >= asOfMs) continue;
    b.reminderAt = t;
    b.reminderOk = rng.chance(0.75);
  }
}

export function writeCalls(
  data: PortalData,
  rng: Rng,
  bookings: Booking[],
  leads: LeadSpec[],
  branches: Branch[],
  asOfMs: number,
): void {
  const calls: CallSpec[] = [];
  let seq = 0;
  const add = (c: CallSpec) => {
    c.seq = seq++;
    calls.push(c);
  };
  const failCode = () =>
    rng.choose([
      ['486', 0.4],
      ['480', 0.35],
      ['603', 0.25],
    ]);

  for (const b of bookings) {
    const p = b.patient;
    if (!p) continue;
    const viaLead = b.firstContact && p.leadId !== null;
    const entity: 'CONTACT' | 'LEAD' = viaLead ? 'LEAD' : 'CONTACT';
    const entityId = viaLead ? p.leadId! : p.contactId;
    const portalNumber = b.branch.portalNumber;
    if (b.channel === 'in' || b.channel === 'out') {
      const dur = b.channel === 'in' ? rng.int(60, 420) : rng.int(45, 300);
      const start = b.bookedAt - dur * 1000;
      add({
        start,
        type: b.channel === 'in' ? 2 : 1,
        dur,
        code: '200',
        user: b.bookedBy,
        phone: p.phone,
        portalNumber,
        entity,
        entityId,
        seq: 0,
      });
      if (b.channel === 'in') {
        // Attempts that nobody picked up, before the call that got through.
        let prev = start;
        for (let j = 0; j < 3; j++) {
          const t = prev - rng.int(3, 60) * MINUTE - rng.int(0, 59) * 1000;
          if (!rng.chance(missProbability(t))) break;
          const known = !b.firstContact || viaLead;
          add({
            start: t,
            type: 2,
            dur: 0,
            code: '304',
            user: rng.pick(b.branch.adminIds),
            phone: p.phone,
            portalNumber,
            entity: known ? entity : null,
            entityId: known ? entityId : 0,
            seq: 0,
          });
          prev = t;
        }
      }
    }
    if (b.reminderAt) {
      const ok = b.reminderOk;
      add({
        start: b.reminderAt,
        type: 1,
        dur: ok ? rng.int(15, 90) : 0,
        code: ok ? '200' : failCode(),
        user: rng.pick(b.branch.adminIds),
        phone: p.phone,
        portalNumber,
        entity: 'CONTACT',
        entityId: p.contactId,
        seq: 0,
      });
    }
  }

  for (const l of leads) {
    const portalNumber = l.branch.portalNumber;
    for (const t of l.failedCalls)
      add({
        start: t,
        type: 1,
        dur: 0,
        code: failCode(),
        user: l.assigned,
        phone: l.phone,
        portalNumber,
        entity: 'LEAD',
        entityId: l.id,
        seq: 0,
      });
    const a = l.answeredCall;
    if (a) {
      add({
        start: a.t,
        type: a.incoming ? 2 : 1,
        dur: a.incoming ? rng.int(20, 90) : rng.int(30, 120),
        code: '200',
        user: l.assigned,
        phone: l.phone,
        portalNumber,
        entity: 'LEAD',
        entityId: l.id,
        seq: 0,
      });
    }
  }

  // Spam and wrong numbers: no CRM record, no activity.
  const spam = Math.round(calls.length * 0.03) + 1;
  let first = asOfMs - 30 * DAY_MS;
  for (const c of calls) if (c.start < first) first = c.start;
  const firstDay = localDayOf(first);
  const lastDay = localDayOf(asOfMs - 1);
  for (let i = 0; i < spam; i++) {
    const branch = rng.pick(branches);
    const t = at(rng.int(firstDay, lastDay), rng.int(9 * 60, 20 * 60 + 59), rng.int(0, 59));
    if (t >= asOfMs) continue;
    const missed = rng.chance(missProbability(t));
    add({
      start: t,
      type: 2,
      dur: missed ? 0 : rng.int(5, 40),
      code: missed ? '304' : '200',
      user: rng.pick(branch.adminIds),
      phone: '+7' + String(rng.int(3_000_000_000, 9_999_999_999)),
      portalNumber: branch.portalNumber,
      entity: null,
      entityId: 0,
      seq: 0,
    });
  }

  calls.sort((a, b) => a.start - b.start || a.seq - b.seq);
  const activities = data.table('activity');
  const callTable = data.table('call');
  const recent = asOfMs - 2 * DAY_MS;
  for (const c of calls) {
    const callId = `${rng.hex(16)}.${Math.floor(c.start / 1000)}.${rng.int(100_000, 999_999)}`;
    const end = c.start + c.dur * 1000;
    let activityId: number | null = null;
    if (c.entity) {
      const missed = c.type === 2 && c.code !== '200';
      const failedOut = c.type === 1 && c.code !== '200';
      const done = !missed || c.start < recent;
      activityId = activities.insert({
        ID: activities.nextId(),
        OWNER_ID: c.entityId,
        OWNER_TYPE_ID: c.entity === 'LEAD' ? 1 : 3,
        TYPE_ID: 2,
        PROVIDER_ID: 'VOXIMPLANT_CALL',
        PROVIDER_TYPE_ID: 'CALL',
        DIRECTION: c.type === 2 ? 1 : 2,
        SUBJECT: missed
          ? 'Пропущенный звонок'
          : c.type === 2
            ? 'Входящий звонок'
            : failedOut
              ? 'Исходящий звонок (не дозвонились)'
              : 'Исходящий звонок',
        CREATED: c.start,
        LAST_UPDATED: done && missed ? Math.min(asOfMs - 1000, c.start + rng.int(5, 240) * MINUTE) : end,
        START_TIME: c.start,
        END_TIME: end,
        DEADLINE: end,
        COMPLETED: done ? 'Y' : 'N',
        STATUS: done ? 2 : 1,
        RESPONSIBLE_ID: c.user,
        AUTHOR_ID: c.user,
        EDITOR_ID: c.user,
        PRIORITY: 2,
        DESCRIPTION: null,
        ORIGIN_ID: `VI_${callId}`,
      }).ID;
    }
    callTable.insert({
      ID: callTable.nextId(),
      CALL_ID: callId,
      PORTAL_USER_ID: c.user,
      PORTAL_NUMBER: c.portalNumber,
      PHONE_NUMBER: c.phone,
      CALL_TYPE: c.type,
      CALL_DURATION: c.dur,
      CALL_START_DATE: c.start,
      CALL_FAILED_CODE: c.code,
      CALL_FAILED_REASON: REASONS[c.code] ?? null,
      CRM_ENTITY_TYPE: c.entity,
      CRM_ENTITY_ID: c.entity ? c.entityId : null,
      CRM_ACTIVITY_ID: activityId,
      // Outgoing minutes are billed (1.50 ₽ per started minute); incoming calls are free.
      COST: c.type === 1 && c.dur > 0 ? Math.ceil(c.dur / 60) * 1.5 : 0,
      COST_CURRENCY: 'RUB',
    });
  }
}
