// Patients and their way through the clinic, before anything is written to the portal. Each patient
// arrives once, is booked to a first doctor, and that doctor's retention decides whether the patient
// comes back within 180 days (so per-doctor return rates are the doctors' own, not noise). Loyal
// patients go on through an agenda of courses (surgery → crowns, orthopedics, braces) and periodic
// check-ups until they drift away. Bookings carry everything later stages need: deals, calls, leads.
import type { DirectionKey } from './catalog.js';
import { buildCourse, type Course, type Line, type Path } from './courses.js';
import {
  childName,
  emailFor,
  foreignName,
  mobilePhone,
  personName,
  randomSurname,
  type Gender,
  type PersonName,
} from './names.js';
import type { Rng } from './random.js';
import { doctorsOn, type Branch, type Doctor } from './staff.js';
import { at, isHoliday, MINUTE, monthOf, weekday } from './time.js';

/** How a booking was made: incoming call, admin's outgoing call, walk-in, online/messenger, or at the previous visit. */
export type Channel = 'in' | 'out' | 'walkin' | 'online' | 'atVisit';

export interface Patient {
  idx: number;
  branch: number;
  child: boolean;
  person: PersonName;
  /** "Иванова М. С." — how deal titles name the patient. */
  title: string;
  /** Masculine surname the family shares. */
  surname: string;
  birthDay: number | null;
  phone: string;
  email: string | null;
  parent: Patient | null;
  source: string;
  foreign: boolean;
  hasLead: boolean;
  admin: number;
  /** Set by the first booking: the contact is registered then. */
  createdAt: number;
  firstBooking: Booking | null;
  contactId: number;
  leadId: number | null;
  /** Doctor the patient keeps seeing in each direction. */
  docs: Partial<Record<DirectionKey, Doctor>>;
  seenDirs: Set<DirectionKey>;
}

export interface Booking {
  seq: number;
  patient: Patient | null;
  branch: Branch;
  dir: DirectionKey;
  doctor: Doctor;
  day: number;
  /** Minute of the local day the visit starts. */
  start: number;
  dur: number;
  bookedAt: number;
  bookedBy: number;
  channel: Channel;
  lines: Line[];
  path: Path;
  outcome: 'visit' | 'noshow' | 'future';
  /** First visit of the patient in this direction: the administrator types it "Первичный прием". */
  primary: boolean;
  firstContact: boolean;
  /** A second deal of the same patient on the same day (not a return). */
  companion: boolean;
  /** Reminder call the day before (null = none; never 0 → epoch: that would re-shape every
   *  booking object) and whether the patient picked up; set by planReminders. */
  reminderAt: number | null;
  reminderOk: boolean;
}

export interface SimOptions {
  startDay: number;
  endDay: number;
  asOfMs: number;
  patientsPerBranch: number;
}

export interface Simulation {
  patients: Patient[];
  bookings: Booking[];
  /** Both bookings of every same-day pair: untidy cases must not be planted on them. */
  paired: Set<Booking>;
}

// Tuned so children's dentistry has ≈3× the patients of orthopedics and orthopedics ≈1.6× its revenue.
const P_CHILD = 0.4;
const ADULT_ENTRY: readonly (readonly [DirectionKey, number])[] = [
  ['therapy', 0.52],
  ['hygiene', 0.2],
  ['surgery', 0.12],
  ['orthopedics', 0.12],
  ['orthodontics', 0.04],
];
const P_NEEDS_ORTHO = 0.2;
const P_ORTHO_REPEAT = 0.6;
const P_NEEDS_SURGERY = 0.12;
const P_NEEDS_ORTHODONTICS_ADULT = 0.03;
const P_NEEDS_ORTHODONTICS_CHILD = 0.12;
const P_NO_SHOW = 0.06;
/** Mean time a loyal patient keeps coming (beyond the first 200 days). */
const LIFETIME_MEAN_DAYS = 2000;

const SOURCE_MIX: readonly (readonly [string, number])[] = [
  ['RECOMMENDATION', 0.33],
  ['CALL', 0.15],
  ['WEB', 0.18],
  ['ADVERTISING', 0.12],
  ['UC_PRODOC', 0.1],
  ['EMAIL', 0.02],
  ['OTHER', 0.1],
];

/** Hours people phone a clinic: mornings and after work are the peaks. */
const CALL_HOURS: readonly (readonly [number, number])[] = [
  [9, 3],
  [10, 3],
  [11, 2.5],
  [12, 1.5],
  [13, 1.2],
  [14, 1.2],
  [15, 1.3],
  [16, 1.5],
  [17, 2.5],
  [18, 2.5],
  [19, 2],
  [20, 0.8],
];

const DAY_YEARS = 365.25;

export class Simulator {
  readonly patients: Patient[] = [];
  readonly bookings: Booking[] = [];
  readonly paired = new Set<Booking>();
  private seq = 0;
  private readonly arrivalCdf: number[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly opts: SimOptions,
    private readonly branches: Branch[],
  ) {
    // New patients per day: a burst in the first months (the clinic's existing patients get a CRM
    // card on their next visit), slow growth, a summer dip, no New-Year holidays, quiet Sundays.
    let acc = 0;
    for (let d = opts.startDay; d < opts.endDay; d++) {
      const age = d - opts.startDay;
      const m = monthOf(d);
      let w = (1 + (0.1 * age) / DAY_YEARS) * (age < 120 ? 4 : 1);
      w *= m === 7 || m === 8 ? 0.8 : m === 12 ? 1.1 : m === 1 ? 0.85 : 1;
      if (isHoliday(d)) w = 0;
      else if (weekday(d) === 0) w *= 0.3;
      acc += w;
      this.arrivalCdf.push(acc);
    }
  }

  run(): Simulation {
    for (const branch of this.branches) {
      const rng = this.rng.fork(`patients-${branch.index}`);
      const adults: Patient[] = [];
      const foreignCount = Math.max(1, Math.round(this.opts.patientsPerBranch / 7500));
      const foreignAt = new Set<number>();
      while (foreignAt.size < foreignCount)
        foreignAt.add(rng.int(0, Math.max(0, this.opts.patientsPerBranch - 1)));
      for (let i = 0; i < this.opts.patientsPerBranch; i++) {
        const p = this.makePatient(rng, branch, adults, foreignAt.has(i));
        this.journey(rng, p, branch);
        if (!p.firstBooking) continue;
        this.patients.push(p);
        if (!p.child && !p.foreign) adults.push(p);
      }
    }
    this.ensureCoverage(this.rng.fork('coverage'));
    return { patients: this.patients, bookings: this.bookings, paired: this.paired };
  }

  /** Small portals must still contain every case tests look for: a same-day second visit and
   *  visits of each doctor who left. Random journeys miss them in a few seeds; nudge one booking. */
  private ensureCoverage(rng: Rng): void {
    const visits = this.bookings.filter(
      (b) =>
        b.outcome === 'visit' &&
        b.path !== 'planRefusedFree' &&
        b.patient &&
        !b.patient.foreign &&
        !b.companion,
    );
    if (this.paired.size === 0) {
      const hosts = visits.filter((b) => !b.patient!.child && b.dir !== 'hygiene');
      if (hosts.length > 0) {
        const host = rng.pick(hosts);
        this.companion(rng, host.patient!, host.branch, 'hygiene', host);
      }
    }
    for (const branch of this.branches) {
      for (const d of branch.doctors) {
        if (d.to === null || this.bookings.some((b) => b.doctor === d && b.outcome === 'visit')) continue;
        const candidates = visits.filter(
          (b) => b.branch === branch && d.dirs.includes(b.dir) && b.day >= d.from && b.day < d.to!,
        );
        if (candidates.length > 0) rng.pick(candidates).doctor = d;
      }
    }
  }

  private arrivalDay(rng: Rng): number {
    const cdf = this.arrivalCdf;
    const x = rng.next() * cdf[cdf.length - 1]!;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return this.opts.startDay + lo;
  }

  private makePatient(rng: Rng, branch: Branch, adults: Patient[], foreign: boolean): Patient {
    const child = !foreign && rng.chance(P_CHILD);
    const gender: Gender = rng.chance(child ? 0.5 : 0.58) ? 'F' : 'M';
    let parent: Patient | null = null;
    let surname: string;
    let person: PersonName;
    let phone: string;
    let birthDay: number | null;
    if (foreign) {
      person = foreignName(rng);
      surname = person.lastName;
      phone = rng.pick(['+1', '+44', '+49', '+39']) + String(rng.int(200_000_000, 999_999_999));
      birthDay = rng.chance(0.5) ? this.opts.endDay - Math.floor(rng.real(25, 60) * DAY_YEARS) : null;
    } else if (child) {
      // Half the children come with a parent who is a patient too: same surname, same phone.
      if (adults.length > 0 && rng.chance(0.5)) parent = rng.pick(adults);
      surname = parent ? parent.surname : randomSurname(rng);
      person = childName(rng, gender, surname);
      phone = parent ? parent.phone : mobilePhone(rng);
      // Under 18 on every day of the history: 6–17 years old at the end.
      birthDay = this.opts.endDay - Math.floor(rng.real(6, 17.95) * DAY_YEARS);
    } else {
      surname = randomSurname(rng);
      person = personName(rng, gender, surname);
      phone = mobilePhone(rng);
      const age = Math.min(85, 18.5 + rng.exp(22) + rng.real(0, 10));
      birthDay = rng.chance(0.12) ? null : this.opts.endDay - Math.floor(age * DAY_YEARS);
    }
    const source = foreign ? 'OTHER' : parent ? 'RECOMMENDATION' : rng.choose(SOURCE_MIX);
    const webLike =
      source === 'WEB' || source === 'ADVERTISING' || source === 'UC_PRODOC' || source === 'EMAIL';
    return {
      idx: this.patients.length,
      branch: branch.index,
      child,
      person,
      title: shortName(person),
      surname,
      birthDay,
      phone,
      email: !child && rng.chance(0.35) ? emailFor(rng, person) : null,
      parent,
      source,
      foreign,
      hasLead:
        webLike ||
        (source === 'CALL' && rng.chance(0.4)) ||
        (source === 'RECOMMENDATION' && rng.chance(0.15)),
      admin: rng.pick(branch.adminIds),
      createdAt: Number.NaN,
      firstBooking: null,
      contactId: 0,
      leadId: null,
      docs: {},
      seenDirs: new Set(),
    };
  }

  private ageOn(p: Patient, day: number): number {
    return p.birthDay === null ? 40 : (day - p.birthDay) / DAY_YEARS;
  }

  private journey(rng: Rng, p: Patient, branch: Branch): void {
    const { startDay, endDay } = this.opts;
    const arrival = p.foreign
      ? startDay + Math.floor((endDay - startDay) * rng.real(0.2, 0.6))
      : this.arrivalDay(rng);
    const entry: DirectionKey = p.foreign
      ? 'therapy'
      : p.child
        ? this.ageOn(p, arrival) >= 12 && rng.chance(0.04)
          ? 'orthodontics'
          : 'pediatric'
        : rng.choose(ADULT_ENTRY);
    const firstDoc = this.pickDoctor(rng, branch, entry, arrival, true);
    p.docs[entry] = firstDoc;
    const loyal = p.foreign || rng.chance(firstDoc.retention);

    const course1 = this.course(rng, p, entry, arrival, loyal);
    const r1 = this.place(rng, p, branch, course1, arrival, { firstContact: true, mustHappen: true });
    if (r1.stopped || r1.firstDay === null) return;
    const firstDay = r1.firstDay;
    if (!p.child && entry === 'therapy' && rng.chance(0.04))
      this.companion(rng, p, branch, 'hygiene', r1.firstVisit!);

    if (!loyal) {
      // Most patients who do not come back within 180 days never do; a few turn up a year later.
      if (rng.chance(0.15)) {
        const dir: DirectionKey = p.child ? 'pediatric' : rng.chance(0.5) ? 'hygiene' : 'therapy';
        const c = this.course(rng, p, dir, firstDay, false);
        this.place(rng, p, branch, c, firstDay + rng.int(200, 540), {
          firstContact: false,
          mustHappen: false,
        });
      }
      return;
    }

    const lifeEnd = firstDay + 200 + rng.exp(LIFETIME_MEAN_DAYS);
    const agenda: { dir: DirectionKey; implants?: number; delay?: number }[] = [];
    if (p.child) {
      if (entry !== 'orthodontics' && rng.chance(P_NEEDS_ORTHODONTICS_CHILD))
        agenda.push({ dir: 'orthodontics' });
    } else {
      if (entry !== 'therapy' && rng.chance(0.5)) agenda.push({ dir: 'therapy' });
      if (entry !== 'surgery' && rng.chance(P_NEEDS_SURGERY)) agenda.push({ dir: 'surgery' });
      if (entry !== 'orthopedics' && rng.chance(P_NEEDS_ORTHO)) agenda.push({ dir: 'orthopedics' });
      if (entry !== 'orthodontics' && rng.chance(P_NEEDS_ORTHODONTICS_ADULT))
        agenda.push({ dir: 'orthodontics' });
    }
    if (course1.implants) agenda.unshift({ dir: 'orthopedics', implants: course1.implants });
    // Prosthetic patients come back for the next teeth: a second orthopedic course months later.
    let orthoRepeated = entry === 'orthopedics' && rng.chance(P_ORTHO_REPEAT);
    if (orthoRepeated) agenda.push({ dir: 'orthopedics', delay: rng.int(120, 365) });
    const agendaGap = (item: { implants?: number; delay?: number }) =>
      item.delay ?? (item.implants ? rng.int(14, 30) : rng.int(7, 45));

    // A loyal patient lives on several clocks at once: the agenda of big courses (one after another),
    // hygiene every ~6 months for those who have the habit, a yearly therapy check-up, and the
    // children's preventive check-ups. The earliest due clock books next.
    type Clock = { kind: 'agenda' | 'hygiene' | 'therapy' | 'pediatric'; due: number };
    const last = r1.lastDay;
    const clocks: Clock[] = [];
    if (agenda.length > 0) clocks.push({ kind: 'agenda', due: last + agendaGap(agenda[0]!) });
    if (p.child) clocks.push({ kind: 'pediatric', due: last + rng.int(80, 180) });
    else {
      if (rng.chance(0.6)) clocks.push({ kind: 'hygiene', due: firstDay + rng.int(120, 200) });
      clocks.push({ kind: 'therapy', due: firstDay + rng.int(150, 365) });
    }
    // The return within 180 days is guaranteed: either the first course already has a second visit
    // day, or the earliest clock is pulled into the window.
    let returned = r1.days.size >= 2;
    if (!returned) {
      const earliest = clocks.reduce((a, c) => (c.due < a.due ? c : a));
      earliest.due = Math.max(last + 1, Math.min(earliest.due, firstDay + rng.int(14, 150)));
    }
    for (let guard = 0; guard < 200 && clocks.length > 0; guard++) {
      const clock = clocks.reduce((a, c) => (c.due < a.due ? c : a));
      if (returned && clock.due >= lifeEnd) break;
      if (clock.due >= endDay + 60) break;
      let dir: DirectionKey;
      let implants: number | undefined;
      if (clock.kind === 'agenda') {
        const next = agenda.shift()!;
        dir = next.dir;
        implants = next.implants;
      } else dir = clock.kind;
      const c = this.course(rng, p, dir, clock.due, true, implants);
      const r = this.place(rng, p, branch, c, clock.due, { firstContact: false, mustHappen: !returned });
      if (r.firstVisit && dir === 'hygiene' && rng.chance(0.07))
        this.companion(rng, p, branch, 'therapy', r.firstVisit);
      if (r.stopped || r.firstDay === null) break;
      returned = true;
      if (c.implants) agenda.unshift({ dir: 'orthopedics', implants: c.implants });
      if (
        clock.kind === 'agenda' &&
        dir === 'orthopedics' &&
        !implants &&
        !orthoRepeated &&
        rng.chance(P_ORTHO_REPEAT)
      ) {
        orthoRepeated = true;
        agenda.push({ dir: 'orthopedics', delay: rng.int(120, 365) });
      }
      if (clock.kind === 'agenda') {
        if (agenda.length === 0) clocks.splice(clocks.indexOf(clock), 1);
        else clock.due = r.lastDay + agendaGap(agenda[0]!);
      } else if (clock.kind === 'hygiene') clock.due = r.lastDay + rng.int(150, 200);
      else if (clock.kind === 'therapy') clock.due = r.lastDay + rng.int(180, 330);
      else clock.due = r.lastDay + rng.int(90, 150);
    }
  }

  private course(
    rng: Rng,
    p: Patient,
    dir: DirectionKey,
    day: number,
    proceed: boolean,
    implants?: number,
  ): Course {
    return buildCourse(
      rng,
      dir,
      { proceed, first: !p.seenDirs.has(dir), child: p.child, age: this.ageOn(p, day) },
      implants,
    );
  }

  pickDoctor(rng: Rng, branch: Branch, dir: DirectionKey, day: number, newPatient: boolean): Doctor {
    let pool = doctorsOn(branch, dir, day);
    if (pool.length === 0) pool = branch.doctors.filter((d) => d.dirs.includes(dir));
    if (pool.length === 0) throw new Error(`no doctor for ${dir} in ${branch.name}`);
    return pool[rng.weighted(pool.map((d) => (newPatient ? d.newWeight : 1)))]!;
  }

  private doctorFor(rng: Rng, p: Patient, branch: Branch, dir: DirectionKey, day: number): Doctor {
    const cur = p.docs[dir];
    const active = cur && cur.from <= day && (cur.to === null || day < cur.to);
    if (cur && active && rng.chance(0.93)) return cur;
    const d = this.pickDoctor(rng, branch, dir, day, false);
    p.docs[dir] = d;
    return d;
  }

  /** Moves a visit off days the clinic does not work (New-Year holidays; most Sundays). */
  private workday(rng: Rng, day: number): number {
    while (isHoliday(day)) day++;
    if (weekday(day) === 0 && rng.chance(0.75)) day++;
    return day;
  }

  private callTime(rng: Rng, day: number): number {
    const hour = rng.choose(CALL_HOURS);
    return at(day, hour * 60 + rng.int(0, 59), rng.int(0, 59));
  }

  private slot(rng: Rng, dur: number): number {
    return Math.min(9 * 60 + 15 * rng.int(0, 44), 21 * 60 - dur);
  }

  /** When and how a course's first visit was booked. */
  private booking(
    rng: Rng,
    p: Patient,
    day: number,
    start: number,
    firstContact: boolean,
  ): { at: number; channel: Channel } {
    const visitAt = at(day, start);
    let channel: Channel;
    if (firstContact) {
      const s = p.source;
      if (s === 'WEB' || s === 'ADVERTISING' || s === 'UC_PRODOC' || s === 'EMAIL') channel = 'out';
      else if (s === 'CALL') channel = 'in';
      else if (s === 'RECOMMENDATION')
        channel = rng.choose<Channel>([
          ['in', 0.75],
          ['walkin', 0.1],
          ['online', 0.15],
        ]);
      else channel = rng.chance(0.5) ? 'walkin' : 'online';
    } else {
      channel = rng.choose<Channel>([
        ['in', 0.55],
        ['out', 0.2],
        ['online', 0.25],
      ]);
    }
    if (channel === 'walkin')
      return { at: visitAt - rng.int(5, 20) * MINUTE - rng.int(0, 59) * 1000, channel };
    const lead = firstContact
      ? rng.choose([
          [0, 0.15],
          [1, 0.25],
          [2, 0.15],
          [3, 0.1],
          [5, 0.15],
          [8, 0.2],
        ])
      : rng.int(1, 21);
    for (let tries = 0; tries < 5; tries++) {
      const t = this.callTime(rng, day - lead - (tries > 2 ? 1 : 0));
      if (t < visitAt - 30 * MINUTE) return { at: t, channel };
    }
    return { at: visitAt - rng.int(40, 120) * MINUTE, channel };
  }

  /**
   * Books and lays out a course from `startDay`. Stops (and the patient's story ends) when the next
   * booking would be made after `asOf`; a visit on or after `asOf` is a future booking.
   */
  private place(
    rng: Rng,
    p: Patient,
    branch: Branch,
    course: Course,
    startDay: number,
    o: { firstContact: boolean; mustHappen: boolean },
  ): {
    firstDay: number | null;
    lastDay: number;
    days: Set<number>;
    stopped: boolean;
    firstVisit: Booking | null;
  } {
    const { endDay, asOfMs } = this.opts;
    const days = new Set<number>();
    let firstDay: number | null = null;
    let firstVisit: Booking | null = null;
    let day = startDay;
    let prevEnd = 0;
    let firstContact = o.firstContact;
    const primary = !p.seenDirs.has(course.dir);
    for (let i = 0; i < course.visits.length; i++) {
      const v = course.visits[i]!;
      if (i > 0) day += v.gap;
      day = this.workday(rng, day);
      let rebookAt: number | null = null;
      for (;;) {
        const doctor = this.doctorFor(rng, p, branch, course.dir, day);
        const start = this.slot(rng, v.dur);
        let bookedAt: number;
        let channel: Channel;
        if (rebookAt !== null) {
          bookedAt = rebookAt;
          channel = 'out';
        } else if (i === 0) {
          const b = this.booking(rng, p, day, start, firstContact);
          bookedAt = Math.max(b.at, at(this.opts.startDay, 9 * 60) + rng.int(0, 600) * 1000);
          // A later course cannot be booked before the patient's card exists.
          if (!firstContact) bookedAt = Math.max(bookedAt, p.createdAt + rng.int(1, 30) * MINUTE);
          if (bookedAt >= at(day, start)) bookedAt = at(day, start) - rng.int(5, 20) * MINUTE;
          channel = b.channel;
        } else {
          bookedAt = prevEnd + rng.int(2, 15) * MINUTE;
          channel = 'atVisit';
        }
        if (bookedAt >= asOfMs) return { firstDay, lastDay: day, days, stopped: true, firstVisit };
        const future = day >= endDay;
        const noShow = !future && rng.chance(P_NO_SHOW);
        const b: Booking = {
          seq: this.seq++,
          patient: p,
          branch,
          dir: course.dir,
          doctor,
          day,
          start,
          dur: v.dur,
          bookedAt,
          bookedBy: rng.pick(branch.adminIds),
          channel,
          lines: v.lines,
          path: v.path,
          outcome: future ? 'future' : noShow ? 'noshow' : 'visit',
          primary: primary && i === 0,
          firstContact,
          companion: false,
          reminderAt: null,
          reminderOk: false,
        };
        this.bookings.push(b);
        if (firstContact) {
          p.firstBooking = b;
          p.createdAt = bookedAt;
          firstContact = false;
        }
        if (future) return { firstDay, lastDay: day, days, stopped: true, firstVisit };
        if (noShow) {
          if (!o.mustHappen && rng.chance(0.25))
            return { firstDay, lastDay: day, days, stopped: true, firstVisit };
          // The administrator calls the next working day and books a new date.
          rebookAt = this.callTime(rng, this.workday(rng, day + 1));
          day = this.workday(rng, day + rng.int(3, 14));
          continue;
        }
        prevEnd = at(day, start + v.dur);
        p.seenDirs.add(course.dir);
        days.add(day);
        if (firstDay === null) {
          firstDay = day;
          firstVisit = b;
        }
        break;
      }
    }
    return { firstDay, lastDay: day, days, stopped: false, firstVisit };
  }

  /** A second visit the same day with another doctor (e.g. hygiene right after the therapist). */
  private companion(rng: Rng, p: Patient, branch: Branch, dir: DirectionKey, after: Booking): void {
    // A refused free consultation is not a visit, so it cannot host a same-day pair.
    if (after.outcome !== 'visit' || after.path === 'planRefusedFree') return;
    this.paired.add(after);
    const doctor = this.doctorFor(rng, p, branch, dir, after.day);
    const c = this.course(rng, p, dir, after.day, false);
    const v = c.visits[0]!;
    const start = Math.min(after.start + after.dur, 21 * 60 - v.dur);
    this.bookings.push({
      seq: this.seq++,
      patient: p,
      branch,
      dir,
      doctor,
      day: after.day,
      start,
      dur: v.dur,
      bookedAt: after.bookedAt + rng.int(1, 4) * MINUTE,
      bookedBy: after.bookedBy,
      channel: 'atVisit',
      lines: v.lines,
      path: v.path === 'planRefusedFree' ? 'diag' : v.path,
      outcome: 'visit',
      primary: !p.seenDirs.has(dir),
      firstContact: false,
      companion: true,
      reminderAt: null,
      reminderOk: false,
    });
    this.paired.add(this.bookings[this.bookings.length - 1]!);
    p.seenDirs.add(dir);
  }

  /** Walk-in emergencies the administrator never linked to a patient card (CONTACT_ID empty). */
  emergencies(rng: Rng, count: number): void {
    const { startDay, endDay } = this.opts;
    for (let i = 0; i < count; i++) {
      const branch = rng.pick(this.branches);
      const day = this.workday(rng, rng.int(startDay + 7, endDay - 2));
      const dir: DirectionKey = rng.chance(0.6) ? 'therapy' : 'surgery';
      const doctor = this.pickDoctor(rng, branch, dir, day, false);
      const lines: Line[] =
        dir === 'therapy'
          ? [
              { key: 'th.consult', qty: 1 },
              { key: 'xr.sight', qty: 1 },
              { key: 'th.anest_cond', qty: 1 },
              { key: 'th.pulpitis1', qty: 1 },
            ]
          : [
              { key: 'su.anest', qty: 1 },
              { key: 'xr.sight', qty: 1 },
              { key: 'su.extract_hard', qty: 1 },
            ];
      const start = this.slot(rng, 60);
      this.bookings.push({
        seq: this.seq++,
        patient: null,
        branch,
        dir,
        doctor,
        day,
        start,
        dur: 60,
        bookedAt: at(day, start) - rng.int(5, 30) * MINUTE,
        bookedBy: rng.pick(branch.adminIds),
        channel: 'walkin',
        lines,
        path: 'simple',
        outcome: 'visit',
        primary: true,
        firstContact: false,
        companion: false,
        reminderAt: null,
        reminderOk: false,
      });
    }
  }
}

function shortName(p: PersonName): string {
  const i = (s: string) => (s ? `${s[0]}.` : '');
  return `${p.lastName} ${i(p.name)}${p.secondName ? ' ' + i(p.secondName) : ''}`;
}
