// Departments and users. Doctors carry the behaviour the KPIs must reveal: how many new patients
// they attract and how often those patients come back. The seed's "warning sign" doctor (many
// first visits, few returns) and a loyal-patient therapist exist in every branch, and one doctor
// per branch (two at clinic scale) has left but keeps historical deals.
import type { PortalData } from '../store.js';
import { DIRECTION_BY_KEY, type DirectionKey } from './catalog.js';
import { emailFor, personName, translit, type Gender, type PersonName } from './names.js';
import type { Rng } from './random.js';
import { at, HOUR, MINUTE } from './time.js';

export type DoctorRole = 'loyal' | 'warning' | 'left' | 'hired' | 'regular';

export interface Doctor {
  userId: number;
  branch: number;
  dirs: DirectionKey[];
  /** Probability that a patient whose first visit is with this doctor returns within 180 days. */
  retention: number;
  /** Relative share of new patients the front desk books to this doctor. */
  newWeight: number;
  /** Works from this local day (inclusive) … */
  from: number;
  /** … until this day (exclusive); null = still working. */
  to: number | null;
  role: DoctorRole;
  name: string;
}

export interface Branch {
  index: number;
  name: string;
  shortName: string;
  departmentId: number;
  portalNumber: string;
  adminIds: number[];
  doctors: Doctor[];
}

export interface StaffLayout {
  portalAdminId: number;
  rootDepartmentId: number;
  branches: Branch[];
  doctors: Doctor[];
  marketerId: number | null;
}

interface RosterEntry {
  dirs: DirectionKey[];
  role: DoctorRole;
  retention: number;
  newWeight?: number;
}

const TINY_ROSTER: RosterEntry[] = [
  { dirs: ['therapy'], role: 'loyal', retention: 0.72 },
  { dirs: ['therapy'], role: 'warning', retention: 0.22, newWeight: 3.5 },
  { dirs: ['therapy'], role: 'left', retention: 0.5 },
  { dirs: ['orthopedics', 'surgery'], role: 'regular', retention: 0.65 },
  { dirs: ['pediatric', 'orthodontics'], role: 'regular', retention: 0.7 },
  { dirs: ['hygiene'], role: 'regular', retention: 0.55 },
];

// Fixed per slot (not drawn from the seed), so the clinic's structure is the same in every portal
// and only names, dates and individual patients vary.
const CLINIC_ROSTER: RosterEntry[] = [
  { dirs: ['therapy'], role: 'loyal', retention: 0.72 },
  { dirs: ['therapy'], role: 'warning', retention: 0.22, newWeight: 3.5 },
  { dirs: ['therapy'], role: 'regular', retention: 0.5 },
  { dirs: ['therapy'], role: 'regular', retention: 0.55 },
  { dirs: ['therapy'], role: 'regular', retention: 0.6 },
  { dirs: ['therapy'], role: 'hired', retention: 0.5 },
  { dirs: ['therapy'], role: 'left', retention: 0.5 },
  { dirs: ['orthopedics'], role: 'regular', retention: 0.62 },
  { dirs: ['orthopedics'], role: 'regular', retention: 0.66 },
  { dirs: ['orthopedics'], role: 'regular', retention: 0.7 },
  { dirs: ['surgery'], role: 'regular', retention: 0.52 },
  { dirs: ['surgery'], role: 'regular', retention: 0.58 },
  { dirs: ['surgery'], role: 'regular', retention: 0.64 },
  { dirs: ['orthodontics'], role: 'regular', retention: 0.8 },
  { dirs: ['orthodontics'], role: 'regular', retention: 0.78 },
  { dirs: ['pediatric'], role: 'regular', retention: 0.62 },
  { dirs: ['pediatric'], role: 'regular', retention: 0.65 },
  { dirs: ['pediatric'], role: 'regular', retention: 0.68 },
  { dirs: ['pediatric'], role: 'regular', retention: 0.71 },
  { dirs: ['pediatric'], role: 'regular', retention: 0.75 },
  { dirs: ['pediatric'], role: 'hired', retention: 0.65 },
  { dirs: ['pediatric'], role: 'left', retention: 0.6 },
  { dirs: ['hygiene'], role: 'regular', retention: 0.5 },
  { dirs: ['hygiene'], role: 'regular', retention: 0.55 },
  { dirs: ['hygiene'], role: 'regular', retention: 0.6 },
];

const BRANCH_NAMES: readonly (readonly [string, string])[] = [
  ['Клиника на Тверской', 'Тверская'],
  ['Клиника на Ленинском', 'Ленинский'],
  ['Клиника в Химках', 'Химки'],
  ['Клиника на Соколе', 'Сокол'],
];

export interface StaffOptions {
  roster: 'tiny' | 'clinic';
  branches: number;
  startDay: number;
  endDay: number;
}

export function writeStaff(data: PortalData, rng: Rng, opts: StaffOptions): StaffLayout {
  const departments = data.table('department');
  const users = data.table('user');
  const span = opts.endDay - opts.startDay;
  const network = opts.branches > 1;
  const registered = at(opts.startDay - 40, 10 * 60);

  const addUser = (
    p: PersonName,
    position: string,
    dept: number[],
    from: number,
    active = true,
    lastLogin?: number,
  ) =>
    users.insert({
      ACTIVE: active,
      NAME: p.name,
      LAST_NAME: p.lastName,
      SECOND_NAME: p.secondName,
      EMAIL: `${translit(p.name)[0]}.${translit(p.lastName)}@ulybka-dent.ru`,
      WORK_POSITION: position,
      UF_DEPARTMENT: dept,
      USER_TYPE: 'employee',
      IS_ADMIN: false,
      PERSONAL_GENDER: p.gender,
      TIME_ZONE: 'Europe/Moscow',
      DATE_REGISTER: from,
      LAST_LOGIN: lastLogin ?? at(opts.endDay - rng.int(1, 4), rng.int(8 * 60, 20 * 60)),
      IS_ONLINE: 'N',
    }).ID;

  const gender = (): Gender => (rng.chance(0.55) ? 'F' : 'M');

  const root = departments.insert({
    NAME: network ? 'Сеть стоматологических клиник «Улыбка»' : 'Стоматологическая клиника «Улыбка»',
    SORT: 500,
    PARENT: null,
    UF_HEAD: 1,
  }).ID;

  // User 1 is the portal's administrator: the owner who set up Bitrix24 himself.
  const owner = personName(rng, 'M');
  users.insert({
    ID: 1,
    ACTIVE: true,
    NAME: owner.name,
    LAST_NAME: owner.lastName,
    SECOND_NAME: owner.secondName,
    EMAIL: emailFor(rng, owner),
    WORK_POSITION: 'Генеральный директор',
    UF_DEPARTMENT: [root],
    USER_TYPE: 'employee',
    IS_ADMIN: true,
    PERSONAL_GENDER: 'M',
    TIME_ZONE: 'Europe/Moscow',
    DATE_REGISTER: registered - 30 * 24 * HOUR,
    LAST_LOGIN: at(opts.endDay - 1, 21 * 60 + 12),
    IS_ONLINE: 'N',
  });

  let marketerId: number | null = null;
  if (opts.roster === 'clinic') {
    const dept = departments.insert({ NAME: 'Маркетинг', SORT: 900, PARENT: root, UF_HEAD: null }).ID;
    marketerId = addUser(personName(rng, 'F'), 'Маркетолог', [dept], registered);
    departments.update(dept, { UF_HEAD: marketerId });
  }

  const roster = opts.roster === 'tiny' ? TINY_ROSTER : CLINIC_ROSTER;
  const branches: Branch[] = [];
  const doctors: Doctor[] = [];
  for (let b = 0; b < opts.branches; b++) {
    const [bName, short] = BRANCH_NAMES[b % BRANCH_NAMES.length]!;
    const branchDept = network
      ? departments.insert({ NAME: bName, SORT: 100 * (b + 1), PARENT: root, UF_HEAD: null }).ID
      : root;
    const suffix = network ? ` (${short})` : '';
    const adminDept = departments.insert({
      NAME: `Администраторы${suffix}`,
      SORT: 100,
      PARENT: branchDept,
      UF_HEAD: null,
    }).ID;
    const adminCount = opts.roster === 'tiny' ? 2 : 4;
    const adminIds: number[] = [];
    for (let i = 0; i < adminCount; i++) {
      adminIds.push(
        addUser(
          personName(rng, 'F'),
          i === 0 ? 'Старший администратор' : 'Администратор',
          [adminDept],
          registered + i * MINUTE,
        ),
      );
    }
    departments.update(adminDept, { UF_HEAD: adminIds[0]! });

    const dirDept = new Map<DirectionKey, number>();
    const branch: Branch = {
      index: b,
      name: network ? bName : 'Стоматологическая клиника «Улыбка»',
      shortName: short,
      departmentId: branchDept,
      portalNumber: '+7495' + String(2_000_000 + rng.int(0, 7_999_999)),
      adminIds,
      doctors: [],
    };
    for (const entry of roster) {
      const main = DIRECTION_BY_KEY[entry.dirs[0]!];
      let deptId = dirDept.get(main.key);
      const newDept = deptId === undefined;
      if (deptId === undefined) {
        deptId = departments.insert({
          NAME: `${main.name}${suffix}`,
          SORT: 200 + main.categoryId * 10,
          PARENT: branchDept,
          UF_HEAD: null,
        }).ID;
        dirDept.set(main.key, deptId);
      }
      const g = gender();
      const p = personName(rng, g);
      const from =
        entry.role === 'hired' ? opts.startDay + Math.floor(span * 0.35) : opts.startDay - rng.int(60, 2000);
      const to =
        entry.role === 'left'
          ? opts.startDay + Math.floor(span * (main.key === 'pediatric' ? 0.6 : 0.45))
          : null;
      const retention = entry.retention;
      const position = g === 'F' ? main.positionFemale : main.position;
      const userId = addUser(
        p,
        position,
        [deptId],
        Math.max(registered, at(from, 9 * 60)),
        to === null,
        to === null ? undefined : at(to - 1, 19 * 60 + rng.int(0, 59)),
      );
      if (newDept) departments.update(deptId, { UF_HEAD: userId });
      const doc: Doctor = {
        userId,
        branch: b,
        dirs: entry.dirs,
        retention,
        newWeight: entry.newWeight ?? 1,
        from,
        to,
        role: entry.role,
        name: `${p.lastName} ${p.name} ${p.secondName}`,
      };
      branch.doctors.push(doc);
      doctors.push(doc);
    }
    branches.push(branch);
  }
  return { portalAdminId: 1, rootDepartmentId: root, branches, doctors, marketerId };
}

/** Doctors of a branch who work in `dir` on `day`. */
export function doctorsOn(branch: Branch, dir: DirectionKey, day: number): Doctor[] {
  return branch.doctors.filter((d) => d.dirs.includes(dir) && d.from <= day && (d.to === null || day < d.to));
}
