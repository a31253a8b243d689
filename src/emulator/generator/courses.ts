// Treatment courses: what a patient's visits in one direction look like — which services, how
// many visits, how far apart, and whether the first visit offered a treatment plan. The numbers are
// tuned so the clinic reproduces seed 000: children's dentistry is the traffic, orthopedics the money.
import type { DirectionKey } from './catalog.js';
import type { Rng } from './random.js';

export interface Line {
  key: string;
  qty: number;
}

/** How the visit deal moves through its pipeline (see reference.ts DIRECTION_STAGES). */
export type Path =
  | 'simple' // Записан → Оплачено
  | 'diag' // Записан → Диагностика → Оплачено
  | 'planAccepted' // … → План предложен → План принят → Оплачено
  | 'planRefused' // … → План предложен → Оплачено (the consultation is paid, the plan is not taken)
  | 'planRefusedFree' // … → План предложен → Отказ от лечения (free consultation: no visit)
  | 'treatment'; // Записан → Лечение → Оплачено

export interface CourseVisit {
  /** Days after the previous visit of the course (0 for the first). */
  gap: number;
  lines: Line[];
  path: Path;
  /** Chair time, minutes. */
  dur: number;
}

export interface Course {
  dir: DirectionKey;
  visits: CourseVisit[];
  /** Implants placed: an orthopedic course with crowns on them follows. */
  implants?: number;
}

export interface CourseContext {
  /** The patient goes on with the course after the first visit (plan accepted). */
  proceed: boolean;
  /** First visit of the patient in this direction (a consultation) rather than a check-up. */
  first: boolean;
  child: boolean;
  /** Age in years at the course start (children's services depend on it). */
  age: number;
}

const L = (key: string, qty = 1): Line => ({ key, qty });

function qtyOf(rng: Rng, dist: readonly (readonly [number, number])[]): number {
  return rng.choose(dist);
}

function xray(rng: Rng, lines: Line[], p = 0.6): void {
  if (rng.chance(p)) lines.push(L('xr.sight', rng.chance(0.25) ? 2 : 1));
}

/** One treatment visit of a therapist; root-canal work needs a second visit to fill the canals. */
function therapyTreatment(rng: Rng): { lines: Line[]; followUp: Line[] | null } {
  const lines: Line[] = [rng.chance(0.7) ? L('th.anest_inf', rng.chance(0.2) ? 2 : 1) : L('th.anest_cond')];
  let followUp: Line[] | null = null;
  const kind = rng.choose<string>([
    ['caries', 0.5],
    ['chem', 0.08],
    ['pulpitis', 0.17],
    ['periodont', 0.06],
    ['retreat', 0.04],
    ['restoration', 0.1],
    ['temp', 0.05],
  ]);
  const filling = (key: string, qty: number) => {
    if (rng.chance(0.7)) lines.push(L('th.medical', qty));
    if (rng.chance(0.6)) lines.push(L('th.pad', qty));
    lines.push(L(key, qty));
  };
  switch (kind) {
    case 'caries':
      filling(
        'th.caries_light',
        qtyOf(rng, [
          [1, 0.65],
          [2, 0.3],
          [3, 0.05],
        ]),
      );
      if (rng.chance(0.2)) lines.push(L('th.polish', 1));
      break;
    case 'chem':
      filling('th.caries_chem', 1);
      break;
    case 'pulpitis':
    case 'periodont':
    case 'retreat': {
      const canals =
        kind === 'pulpitis'
          ? rng.choose([
              [1, 0.45],
              [2, 0.3],
              [3, 0.25],
            ])
          : 1;
      lines.push(
        L(
          kind === 'pulpitis' ? `th.pulpitis${canals}` : kind === 'periodont' ? 'th.periodont' : 'th.retreat',
        ),
      );
      if (rng.chance(0.25)) lines.push(L('th.microscope', canals));
      lines.push(L('th.temp_fill'));
      followUp = [L('th.anest_inf'), L('th.canal_fill', canals), L('xr.sight')];
      if (rng.chance(0.6)) followUp.push(L('th.pad'));
      followUp.push(L('th.caries_light'));
      break;
    }
    case 'restoration':
      lines.push(L('th.restoration'), L('th.polish'));
      break;
    default:
      lines.push(L('th.temp_fill'));
  }
  if (rng.chance(0.4)) lines.push(L('th.dam'));
  xray(rng, lines, 0.5);
  return { lines, followUp };
}

function therapy(rng: Rng, ctx: CourseContext): Course {
  const first: Line[] = [ctx.first || rng.chance(0.5) ? L('th.consult') : L('th.control')];
  xray(rng, first, 0.7);
  if (ctx.first && rng.chance(0.25)) first.push(L('xr.optg'));
  let pending: Line[] | null = null;
  if (rng.chance(0.45)) {
    const t = therapyTreatment(rng);
    first.push(...t.lines);
    pending = t.followUp;
  }
  const n = ctx.proceed
    ? qtyOf(rng, [
        [0, 0.2],
        [1, 0.35],
        [2, 0.28],
        [3, 0.17],
      ])
    : 0;
  const visits: CourseVisit[] = [
    {
      gap: 0,
      lines: first,
      path:
        n > 0 || (ctx.proceed && pending)
          ? 'planAccepted'
          : !ctx.proceed && rng.chance(0.6)
            ? 'planRefused'
            : 'diag',
      dur: 60,
    },
  ];
  if (!ctx.proceed) return { dir: 'therapy', visits };
  for (let i = 0; i < n || pending; i++) {
    if (pending) {
      visits.push({ gap: rng.int(7, 14), lines: pending, path: 'treatment', dur: 60 });
      pending = null;
      continue;
    }
    const t = therapyTreatment(rng);
    visits.push({ gap: rng.int(5, 21), lines: t.lines, path: 'treatment', dur: 90 });
    pending = t.followUp;
  }
  if (rng.chance(0.03))
    visits.push({ gap: rng.int(14, 45), lines: [L('th.whitening')], path: 'simple', dur: 120 });
  return { dir: 'therapy', visits };
}

export function hygieneVisit(rng: Rng): Line[] {
  const lines: Line[] = [];
  const kind = rng.choose<string>([
    ['prof', 0.7],
    ['ultra', 0.15],
    ['scaling', 0.1],
    ['perio', 0.05],
  ]);
  if (kind === 'prof') {
    lines.push(L('hy.prof'));
    if (rng.chance(0.5)) lines.push(L('hy.polish'));
    if (rng.chance(0.35)) lines.push(L('hy.fluoride'));
    if (rng.chance(0.15)) lines.push(L('hy.training'));
    if (rng.chance(0.1)) lines.push(L('hy.remin'));
  } else if (kind === 'ultra') {
    lines.push(L('hy.ultrasound', 2), L('hy.airflow', 2));
  } else if (kind === 'scaling') {
    // The seed's "procedure that burns doctor time but brings pennies": priced per tooth.
    lines.push(L('hy.scaling_tooth', rng.int(12, 28)), L('hy.airflow', rng.int(1, 2)));
  } else {
    lines.push(L('hy.vector', rng.int(1, 2)), L('hy.curettage', rng.int(2, 6)));
  }
  if (rng.chance(0.1)) lines.push(L('hy.brush', rng.int(1, 2)));
  if (rng.chance(0.03)) lines.push(L('hy.irrigator'));
  if (rng.chance(0.08)) lines.push(L('hy.paste', rng.int(1, 3)));
  return lines;
}

function hygiene(rng: Rng): Course {
  return { dir: 'hygiene', visits: [{ gap: 0, lines: hygieneVisit(rng), path: 'simple', dur: 60 }] };
}

function surgery(rng: Rng, ctx: CourseContext): Course {
  const consult: Line[] = [L('su.consult')];
  const paidScan = rng.chance(0.6);
  if (paidScan) consult.push(L(rng.chance(0.75) ? 'xr.ct' : 'xr.optg'));
  if (!ctx.proceed) {
    return {
      dir: 'surgery',
      visits: [{ gap: 0, lines: consult, path: paidScan ? 'planRefused' : 'planRefusedFree', dur: 30 }],
    };
  }
  const kind = rng.choose<string>([
    ['extract', 0.45],
    ['implant', 0.42],
    ['other', 0.13],
  ]);
  const visits: CourseVisit[] = [{ gap: 0, lines: consult, path: 'planAccepted', dur: 30 }];
  if (kind === 'extract') {
    const ex: Line[] = [
      L('su.anest'),
      L(
        rng.choose([
          ['su.extract', 0.5],
          ['su.extract_hard', 0.3],
          ['su.wisdom', 0.2],
        ]),
        rng.chance(0.2) ? 2 : 1,
      ),
    ];
    if (rng.chance(0.3)) visits[0]!.lines.push(...ex);
    else visits.push({ gap: rng.int(3, 14), lines: ex, path: 'treatment', dur: 60 });
    const r = rng.next();
    if (r < 0.4) visits.push({ gap: rng.int(7, 10), lines: [L('su.sutures')], path: 'simple', dur: 20 });
    else if (r < 0.7) visits.push({ gap: rng.int(5, 10), lines: [L('su.control')], path: 'simple', dur: 20 });
    return { dir: 'surgery', visits };
  }
  if (kind === 'implant') {
    const n = qtyOf(rng, [
      [1, 0.6],
      [2, 0.3],
      [3, 0.1],
    ]);
    const op: Line[] = [
      L('su.anest', 2),
      L(rng.chance(0.75) ? 'su.implant_osstem' : 'su.implant_straumann', n),
    ];
    if (rng.chance(0.2)) op.push(L('su.graft'));
    const sinus = rng.next();
    if (sinus < 0.1) op.push(L('su.sinus_closed'));
    else if (sinus < 0.15) op.push(L('su.sinus_open'));
    visits.push({ gap: rng.int(7, 30), lines: op, path: 'treatment', dur: 120 });
    visits.push({ gap: rng.int(8, 12), lines: [L('su.sutures')], path: 'simple', dur: 20 });
    visits.push({ gap: rng.int(90, 150), lines: [L('su.healing', n)], path: 'treatment', dur: 40 });
    return { dir: 'surgery', visits, implants: n };
  }
  visits.push({
    gap: rng.int(5, 20),
    lines: [L('su.anest'), L(rng.chance(0.6) ? 'su.resection' : 'su.cyst')],
    path: 'treatment',
    dur: 90,
  });
  visits.push({ gap: rng.int(7, 10), lines: [L('su.sutures')], path: 'simple', dur: 20 });
  return { dir: 'surgery', visits };
}

function orthopedics(rng: Rng, ctx: CourseContext, implants = 0): Course {
  if (implants > 0) {
    // Crowns on implants placed by the surgeon: no consultation, straight to the work.
    const crown = rng.chance(0.5) ? 'or.crown_impl_mc' : 'or.crown_impl_zr';
    return {
      dir: 'orthopedics',
      visits: [
        { gap: 0, lines: [L('or.silicone'), L('or.abutment', implants)], path: 'planAccepted', dur: 60 },
        {
          gap: rng.int(14, 21),
          lines: [L(crown, implants), L('or.fixation', implants)],
          path: 'treatment',
          dur: 60,
        },
      ],
    };
  }
  const consult: Line[] = [L('or.consult')];
  if (rng.chance(0.6)) consult.push(L('xr.optg'));
  if (!ctx.proceed)
    return { dir: 'orthopedics', visits: [{ gap: 0, lines: consult, path: 'planRefused', dur: 40 }] };
  const visits: CourseVisit[] = [{ gap: 0, lines: consult, path: 'planAccepted', dur: 40 }];
  const kind = rng.choose<string>([
    ['crowns', 0.6],
    ['dentures', 0.2],
    ['veneers', 0.07],
    ['inlays', 0.13],
  ]);
  if (kind === 'crowns') {
    const n = qtyOf(rng, [
      [1, 0.2],
      [2, 0.3],
      [3, 0.2],
      [4, 0.18],
      [6, 0.12],
    ]);
    const crown = rng.choose([
      ['or.crown_mc', 0.4],
      ['or.crown_zr', 0.4],
      ['or.crown_emax', 0.2],
    ]);
    const prep: Line[] = [L('th.anest_inf'), L('or.temp_crown', n), L('or.silicone')];
    const posts = Math.round(n * rng.real(0, 0.8));
    if (posts > 0) prep.splice(1, 0, L('or.post', posts));
    visits.push({ gap: rng.int(3, 14), lines: prep, path: 'treatment', dur: 120 });
    if (rng.chance(0.5))
      visits.push({ gap: rng.int(10, 21), lines: [L('or.fitting')], path: 'treatment', dur: 30 });
    visits.push({
      gap: rng.int(5, 14),
      lines: [L(crown, n), L('or.fixation', n)],
      path: 'treatment',
      dur: 60,
    });
  } else if (kind === 'dentures') {
    const type = rng.choose([
      ['or.denture_part', 0.5],
      ['or.denture_full', 0.3],
      ['or.bugel', 0.2],
    ]);
    const jaws = type === 'or.denture_full' && rng.chance(0.4) ? 2 : 1;
    visits.push({ gap: rng.int(3, 14), lines: [L('or.alginate', 2)], path: 'treatment', dur: 40 });
    visits.push({ gap: rng.int(7, 14), lines: [L('or.fitting')], path: 'treatment', dur: 30 });
    visits.push({ gap: rng.int(7, 14), lines: [L(type, jaws)], path: 'treatment', dur: 40 });
    if (rng.chance(0.6))
      visits.push({ gap: rng.int(3, 10), lines: [L('or.correction')], path: 'simple', dur: 20 });
  } else if (kind === 'veneers') {
    const n = rng.choose([
      [2, 0.3],
      [4, 0.4],
      [6, 0.2],
      [8, 0.1],
    ]);
    visits.push({
      gap: rng.int(3, 14),
      lines: [L('th.anest_inf', 2), L('or.silicone')],
      path: 'treatment',
      dur: 150,
    });
    visits.push({ gap: rng.int(10, 18), lines: [L('or.veneer', n)], path: 'treatment', dur: 120 });
  } else {
    const n = rng.chance(0.7) ? 1 : 2;
    visits.push({
      gap: rng.int(3, 14),
      lines: [L('th.anest_inf'), L('or.silicone')],
      path: 'treatment',
      dur: 60,
    });
    visits.push({ gap: rng.int(7, 14), lines: [L('or.inlay', n)], path: 'treatment', dur: 60 });
  }
  return { dir: 'orthopedics', visits };
}

function orthodontics(rng: Rng, ctx: CourseContext): Course {
  const visits: CourseVisit[] = [{ gap: 0, lines: [L('od.consult')], path: 'diag', dur: 40 }];
  if (!ctx.proceed) return { dir: 'orthodontics', visits };
  visits.push({ gap: rng.int(3, 10), lines: [L('od.diag'), L('xr.optg')], path: 'planAccepted', dur: 60 });
  if (ctx.child && ctx.age < 12) {
    visits.push({ gap: rng.int(7, 14), lines: [L('od.plate')], path: 'treatment', dur: 40 });
    const n = rng.int(4, 8);
    for (let i = 0; i < n; i++)
      visits.push({ gap: rng.int(35, 56), lines: [L('od.plate_adjust')], path: 'treatment', dur: 20 });
    return { dir: 'orthodontics', visits };
  }
  if (!ctx.child && rng.chance(0.15)) {
    visits.push({ gap: rng.int(14, 28), lines: [L('od.aligners')], path: 'treatment', dur: 40 });
    const n = rng.int(6, 10);
    for (let i = 0; i < n; i++)
      visits.push({ gap: rng.int(42, 56), lines: [L('od.aligner_check')], path: 'simple', dur: 20 });
    return { dir: 'orthodontics', visits };
  }
  const braces = rng.choose([
    ['od.braces_metal', 0.55],
    ['od.braces_ceramic', 0.3],
    ['od.braces_sapphire', 0.15],
  ]);
  const jaws = rng.chance(0.8) ? 2 : 1;
  visits.push({ gap: rng.int(7, 21), lines: [L(braces, jaws)], path: 'treatment', dur: 120 });
  const n = rng.int(10, 18);
  for (let i = 0; i < n; i++)
    visits.push({ gap: rng.int(28, 42), lines: [L('od.correction')], path: 'treatment', dur: 30 });
  const end: Line[] = [L('od.removal', jaws), L('od.retainer', jaws)];
  if (rng.chance(0.5)) end.push(L('od.mouthguard'));
  visits.push({ gap: rng.int(28, 42), lines: end, path: 'treatment', dur: 60 });
  return { dir: 'orthodontics', visits };
}

function pediatricTreatment(rng: Rng, age: number): Line[] {
  const lines: Line[] = [];
  if (rng.chance(0.6)) lines.push(L('pe.anest_app'));
  if (rng.chance(0.5)) lines.push(L('pe.anest'));
  const kind = rng.choose<string>([
    ['caries', 0.45],
    ['pulpitis', 0.15],
    ['extract', 0.15],
    ['sealant', 0.12],
    ['perm', 0.08],
    ['crown', 0.05],
  ]);
  switch (kind) {
    case 'caries':
      lines.push(L('pe.baby_caries', rng.chance(0.35) ? 2 : 1));
      break;
    case 'pulpitis':
      lines.push(L('pe.baby_pulpitis'));
      break;
    case 'extract':
      lines.push(L('pe.extract'));
      break;
    case 'sealant':
      lines.push(L('pe.sealant', rng.int(2, 4)));
      break;
    case 'perm':
      lines.push(L(age >= 7 ? 'pe.perm_caries' : 'pe.baby_caries'));
      break;
    default:
      lines.push(L('pe.crown'));
  }
  if (rng.chance(0.05)) lines.push(L('pe.silver', rng.int(1, 4)));
  if (rng.chance(0.06)) lines.push(L('pe.sedation'));
  return lines;
}

function pediatric(rng: Rng, ctx: CourseContext): Course {
  if (!ctx.first) {
    // Preventive check-up every few months: the children's department's steady traffic.
    const lines: Line[] = [L('pe.consult')];
    if (rng.chance(0.5)) lines.push(L('pe.hygiene'));
    if (rng.chance(0.5)) lines.push(L('pe.fluoride'));
    if (rng.chance(0.1)) lines.push(L('pe.sealant', 2));
    if (rng.chance(0.4)) lines.push(L('pe.training'));
    const visits: CourseVisit[] = [{ gap: 0, lines, path: 'simple', dur: 40 }];
    if (ctx.proceed && rng.chance(0.3))
      visits.push({
        gap: rng.int(7, 21),
        lines: pediatricTreatment(rng, ctx.age),
        path: 'treatment',
        dur: 40,
      });
    return { dir: 'pediatric', visits };
  }
  const first: Line[] = [L('pe.consult')];
  if (ctx.age <= 6 && rng.chance(0.6)) first.push(L('pe.adapt'));
  if (rng.chance(0.4)) first.push(...pediatricTreatment(rng, ctx.age));
  const n = ctx.proceed
    ? qtyOf(rng, [
        [0, 0.25],
        [1, 0.35],
        [2, 0.25],
        [3, 0.15],
      ])
    : 0;
  const visits: CourseVisit[] = [{ gap: 0, lines: first, path: n > 0 ? 'planAccepted' : 'diag', dur: 40 }];
  for (let i = 0; i < n; i++)
    visits.push({ gap: rng.int(7, 21), lines: pediatricTreatment(rng, ctx.age), path: 'treatment', dur: 40 });
  return { dir: 'pediatric', visits };
}

export function buildCourse(rng: Rng, dir: DirectionKey, ctx: CourseContext, implants = 0): Course {
  const course = directionCourse(rng, dir, ctx, implants);
  // Most visits bill the sterile instrument kit (a shared, non-direction catalog section).
  for (const v of course.visits) if (rng.chance(0.85)) v.lines.push(L('co.kit'));
  return course;
}

function directionCourse(rng: Rng, dir: DirectionKey, ctx: CourseContext, implants: number): Course {
  switch (dir) {
    case 'therapy':
      return therapy(rng, ctx);
    case 'hygiene':
      return hygiene(rng);
    case 'surgery':
      return surgery(rng, ctx);
    case 'orthopedics':
      return orthopedics(rng, ctx, implants);
    case 'orthodontics':
      return orthodontics(rng, ctx);
    case 'pediatric':
      return pediatric(rng, ctx);
  }
}
