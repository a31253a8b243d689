// Crash safety of the full load: a sync run in a child process is killed with SIGKILL at seeded random
// points — after a random delay, or right at / shortly after its N-th committed unit of work — at
// least ten times, restarted each time (the stale lease is deleted, or left to expire), and finally
// allowed to finish. The mirror must then equal the emulator exactly, with no duplicate rows and no
// leftovers of rows the portal deleted, on every store dialect (a SQLite file; PostgreSQL if up).
//
// What a killed run leaves in the run log: its `sync_run` row stays 'running' with no finished_at — a
// process killed with SIGKILL cannot mark its own failure; the next run that takes the lease marks
// such rows 'failed' (abandoned). Either is accepted in between; never 'finished'.
//
// After every kill the test also checks that what the checkpoints call committed is exact (a range and
// its checkpoint commit together). A last test guards against a resumed pass ending with the resuming
// run's start as its incremental watermark.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortalRepo } from '../../src/db/portals.js';
import { SecretBox } from '../../src/db/secrets.js';
import type { Table } from '../../src/emulator/store.js';
import { mulberry32 } from '../../src/emulator/faults.js';
import { populateClinic } from '../../src/emulator/generator/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import type { EntityCounts, RunSummary } from '../../src/sync/engine.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { registerPortal } from '../fixtures/sync-setup.js';
import { assertMirrorExact as assertMirror, kop } from '../fixtures/mirror.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../fixtures/sync-child.ts', import.meta.url));
const APP_SECRET = 'crash-test-secret-'.padEnd(40, 'x');
const LEASE_MS = 1500;
const KILLS = 10;
/** Upper bound of the "random delay" kills, ms after the child says it is calling `engine.run`. */
const MAX_DELAY_MS = 1200;
/** Extra deals and contacts on top of the tiny clinic (~320 deals, ~60 patients): a few thousand. */
const EXTRA_DEALS = 3200;
const EXTRA_CONTACTS = 2600;
const DEAL_CLUSTERS = 4;
const CONTACT_CLUSTERS = 2;
const CLUSTER_GAP = 25_000;


type Plan =
  | { kind: 'delay'; ms: number }
  | { kind: 'progress'; n: number; extraMs: number }
  /** Killed at the first commit after which `when` holds of the run's counts. */
  | { kind: 'state'; when: (read: Record<string, EntityCounts>) => boolean };

interface Attempt {
  plan: Plan | null;
  killed: boolean;
  code: number | null;
  /** Progress lines (committed units) the parent saw before the child ended. */
  progress: number;
  summary?: RunSummary;
  busy: boolean;
  stderr: string;
  ms: number;
  lastProgressMs?: number;
  /** Entity counts of its last progress line (or its summary): what this run read. */
  read?: Record<string, EntityCounts>;
  /** Checkpoint cursors after it ended (undefined: no checkpoint yet, null: pass complete). */
  cursors?: { deal: number | null | undefined; contact: number | null | undefined };
}

// The child is tests/fixtures/sync-child.ts; `node --import tsx` runs it as it is, but loading ~300
// modules through tsx's loader hooks takes ~1.6 s of CPU a start on this 2-core machine, and the test
// starts a dozen children per dialect. So it is bundled once (our sources only; packages stay
// external and resolve from the repo's node_modules, hence the output under node_modules/.cache) and
// started with plain node. SYNC_CHILD_TSX=1 runs it through tsx instead (slower, same code).
let buildDir: string;
let childArgs: string[];
beforeAll(async () => {
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
  buildDir = mkdtempSync(join(ROOT, 'node_modules/.cache/sync-child-'));
  const outfile = join(buildDir, 'sync-child.mjs');
  await build({
    entryPoints: [CHILD],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  childArgs = process.env.SYNC_CHILD_TSX ? ['--import', 'tsx', CHILD] : [outfile];
});
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

const describeCrash = describe.each(DIALECTS);

describeCrash('a full sync killed with SIGKILL and restarted, on %s', (dialect) => {
  let emu: RunningEmulator;
  let store: TestStore;
  let portalId: string;
  let childEnv: Record<string, string>;

  beforeAll(async () => {
    emu = await startEmulator({
      limits: 'off',
      populate: (e) => void populateClinic(e.portal.data, { seed: 7, scale: 'tiny' }),
    });
    const crm = emu.emulator.crm;
    const t = emu.emulator.portal.data.tables;
    const rng = mulberry32(dialect === 'sqlite' ? 101 : 102);
    // The extra rows come in clusters 25 000 IDs apart (an old portal's ID space has such gaps), so a
    // pass has several commit units whatever the engine's unit size.
    const skipTo = (table: Table, id: number) => {
      table.insert({ ID: id });
      table.delete(id);
    };
    const patients = [...t.contact.all()].map((c) => c.ID);
    for (let i = 0; i < EXTRA_CONTACTS; i++) {
      if (i % (EXTRA_CONTACTS / CONTACT_CLUSTERS) === 0 && i > 0)
        skipTo(t.contact, CLUSTER_GAP * (i / (EXTRA_CONTACTS / CONTACT_CLUSTERS)));
      patients.push(
        crm.add('contact', {
          NAME: `Пациент ${i}`,
          SOURCE_ID: i % 3 ? 'CALL' : 'WEB',
          BIRTHDATE: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
        }).ID,
      );
    }
    for (let i = 0; i < EXTRA_DEALS; i++) {
      if (i % (EXTRA_DEALS / DEAL_CLUSTERS) === 0)
        skipTo(t.deal, CLUSTER_GAP * (1 + i / (EXTRA_DEALS / DEAL_CLUSTERS)));
      const d = crm.add('deal', {
        TITLE: `Визит ${i}`,
        CATEGORY_ID: 1 + (i % 3),
        CONTACT_ID: patients[Math.floor(rng() * patients.length)],
        OPPORTUNITY: Math.round(rng() * 5_000_000) / 100,
        ASSIGNED_BY_ID: 1,
        CLOSEDATE: `2026-0${1 + (i % 9)}-1${i % 10}`,
      });
      // 0–4 rows a visit, and now and then a long treatment plan, so some product-row pages are
      // full and continue.
      const n = i % 401 === 0 ? 70 : Math.floor(rng() * 5);
      const rows = Array.from({ length: n }, (_, k) => ({
        PRODUCT_NAME: `Услуга ${k}`,
        PRICE: Math.round(rng() * 1_000_000) / 100,
        QUANTITY: 1 + (k % 3),
        DISCOUNT_TYPE_ID: 1,
        DISCOUNT_SUM: k % 2 ? 100 : 0,
      }));
      if (n) crm.setProductRows(d.ID, rows);
    }
    // Holes in the ID space: deals and contacts the portal deleted.
    const deals = [...t.deal.all()].map((d) => d.ID);
    const gone = deals.filter(() => rng() < 0.01);
    for (const id of gone) crm.delete('deal', id);
    for (const id of patients.filter(() => rng() < 0.01)) crm.delete('contact', id);

    store = await createTestStore(dialect);
    const inst = await emu.emulator.installApp({ clientId: 'local.crash' });
    portalId = inst.memberId;
    const portals = new PortalRepo(store.db, new SecretBox(APP_SECRET));
    await registerPortal(portals, inst);
    // A stale mirror from "before": deals the portal has since deleted (inside the ID space and above
    // its top) with product rows, and a product row deal 4 no longer has. The full load removes them.
    const syncedAt = '2020-01-01T00:00:00.000Z';
    const stale = [...gone.slice(0, 5), deals.at(-1)! + 1000];
    await store.db
      .insertInto('b24_deal')
      .values(
        stale.map((id) => ({
          portal_id: portalId,
          id,
          title: 'stale',
          category_id: 0,
          uf: '{}',
          problems: null,
          synced_at: syncedAt,
        })),
      )
      .execute();
    await store.db
      .insertInto('b24_product_row')
      .values(
        [...stale, 4].map((dealId, i) => ({
          portal_id: portalId,
          id: 900_000_000 + i,
          deal_id: dealId,
          price_minor: 1,
          quantity: 1,
          problems: null,
          synced_at: syncedAt,
        })),
      )
      .execute();
    childEnv = {
      DATABASE_URL: store.url,
      PORTAL_ID: portalId,
      B24_CLIENT_ID: inst.clientId,
      B24_CLIENT_SECRET: inst.clientSecret,
      APP_SECRET,
      LEASE_MS: String(LEASE_MS),
    };
  });
  afterAll(async () => {
    await Promise.all([...live].map((c) => c.dispose()));
    await emu?.close();
    await store?.dispose();
  });

  interface Standby {
    loaded: Promise<void>;
    /** Starts the run; the child is killed as the plan says (null: it may finish). */
    go(plan: Plan | null): Promise<Attempt>;
    /** Kills it (if still running) and waits until it has ended. */
    dispose(): Promise<void>;
  }

  /** Children not yet ended: afterAll kills them and waits, so none outlives the test's store,
   *  emulator or bundle. */
  const live = new Set<Standby>();

  /** A child that loads now and runs when told to. */
  function standby(env: Record<string, string> = {}): Standby {
    const child = spawn(process.execPath, childArgs, {
      cwd: ROOT,
      env: { ...process.env, ...childEnv, ...env, WAIT_FOR_GO: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Omit<Attempt, 'killed' | 'code' | 'ms'> = { plan: null, progress: 0, busy: false, stderr: '' };
    let t0 = 0;
    let timer: NodeJS.Timeout | undefined;
    let onLoaded!: () => void;
    const loaded = new Promise<void>((r) => (onLoaded = r));
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    // Nothing a child does may surface as an error of this process outside the awaited attempt: a
    // stream error, an unparsable line or a failed spawn of a standby nobody runs would otherwise be
    // an unhandled error under load (a kill can land anywhere). They go into the attempt's stderr.
    const note = (what: string) => (e: unknown) => (out.stderr += `\n[parent] ${what}: ${String(e)}`);
    const rl = createInterface({ input: child.stdout });
    rl.on('error', note('stdout'));
    rl.on('line', (line) => {
      const plan = out.plan;
      if (line === 'loaded') onLoaded();
      else if (line === 'ready') {
        if (plan?.kind === 'delay') timer = setTimeout(kill, plan.ms);
      } else if (line.startsWith('progress ')) {
        out.progress++;
        out.lastProgressMs = Date.now() - t0;
        try {
          out.read = JSON.parse(line.slice(9)) as Attempt['read'];
        } catch (e) {
          note('unparsable progress line')(e);
        }
        if (plan?.kind === 'state' && out.read && plan.when(out.read)) kill();
        if (plan?.kind === 'progress' && out.progress === plan.n) {
          if (plan.extraMs) timer = setTimeout(kill, plan.extraMs);
          else kill();
        }
      } else if (line.startsWith('done ')) {
        try {
          out.summary = JSON.parse(line.slice(5)) as RunSummary;
          out.read = out.summary.entities;
        } catch (e) {
          note('unparsable done line')(e);
        }
      } else if (line === 'busy') out.busy = true;
    });
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.stderr.on('error', note('stderr'));
    child.stdin.on('error', () => {}); // EPIPE when a standby died early; its exit code tells
    const closed = new Promise<Attempt>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        onLoaded();
        live.delete(handle);
        resolve({ ...out, killed: signal === 'SIGKILL', code, ms: Date.now() - t0 });
      });
    });
    // A standby that is never run is never awaited: its failure must not be an unhandled rejection
    // (go() still hands the rejection to whoever runs it).
    closed.catch(() => undefined);
    const handle: Standby = {
      loaded,
      go(plan) {
        out.plan = plan;
        t0 = Date.now();
        child.stdin.end('go\n');
        return closed;
      },
      async dispose() {
        kill();
        await closed.then(
          () => undefined,
          () => undefined,
        );
      },
    };
    live.add(handle);
    return handle;
  }

  let next: Standby | undefined;
  /** One run in a fresh process (loaded in advance, while the previous one runs). */
  async function attempt(plan: Plan | null): Promise<Attempt> {
    const child = next ?? standby();
    next = standby();
    await child.loaded;
    return child.go(plan);
  }

  async function lease() {
    return store.db.selectFrom('sync_lease').selectAll().where('portal_id', '=', portalId).executeTakeFirst();
  }

  const assertMirrorExact = () => assertMirror(store.db, portalId, emu.emulator.portal.data);


  /**
   * After any kill, what the checkpoints say is committed must be exactly so: the portal does not
   * change during the test, so local deals (with their product rows) and contacts with IDs up to an
   * entity's cursor equal the portal's — all of them when the entity's pass completed. A checkpoint
   * ahead of its data, or a half-written range, would show here.
   */
  async function assertCommittedPrefixExact(): Promise<{
    deal: number | null | undefined;
    contact: number | null | undefined;
  }> {
    const t = emu.emulator.portal.data.tables;
    const cps = await store.db
      .selectFrom('sync_checkpoint')
      .select(['entity', 'cursor'])
      .where('portal_id', '=', portalId)
      .execute();
    const cursorOf = (e: string) => cps.find((c) => c.entity === e)?.cursor;
    const upTo = (c: number | null | undefined) =>
      c === undefined ? 0 : c === null ? Number.MAX_SAFE_INTEGER : c;
    const dealTop = upTo(cursorOf('deal'));
    const localDeals = await store.db
      .selectFrom('b24_deal')
      .select(['id', 'opportunity_minor'])
      .where('portal_id', '=', portalId)
      .where('id', '<=', dealTop)
      .orderBy('id')
      .execute();
    expect(localDeals).toEqual(
      [...t.deal.all()]
        .filter((d) => d.ID <= dealTop)
        .sort((a, b) => a.ID - b.ID)
        .map((d) => ({ id: d.ID, opportunity_minor: kop(d.OPPORTUNITY) })),
    );
    const localRows = await store.db
      .selectFrom('b24_product_row')
      .select(['id', 'deal_id'])
      .where('portal_id', '=', portalId)
      .where('deal_id', '<=', dealTop)
      .orderBy('id')
      .execute();
    expect(localRows).toEqual(
      [...t.productrow.all()]
        .filter((r) => r.OWNER_TYPE === 'D' && (r.OWNER_ID as number) <= dealTop)
        .sort((a, b) => a.ID - b.ID)
        .map((r) => ({ id: r.ID, deal_id: r.OWNER_ID })),
    );
    const contactTop = upTo(cursorOf('contact'));
    const localContacts = await store.db
      .selectFrom('b24_contact')
      .select('id')
      .where('portal_id', '=', portalId)
      .where('id', '<=', contactTop)
      .orderBy('id')
      .execute();
    expect(localContacts.map((c) => c.id)).toEqual(
      [...t.contact.all()]
        .filter((c) => c.ID <= contactTop)
        .map((c) => c.ID)
        .sort((a, b) => a - b),
    );
    return { deal: cursorOf('deal'), contact: cursorOf('contact') };
  }

  /** (portal_id, id) pairs stored more than once — the primary keys forbid it; checked all the same. */
  async function duplicates(table: 'b24_deal' | 'b24_contact' | 'b24_product_row'): Promise<unknown[]> {
    return store.db
      .selectFrom(table)
      .select(['portal_id', 'id', ({ fn }) => fn.countAll<number>().as('n')])
      .groupBy(['portal_id', 'id'])
      .having(({ fn }) => fn.countAll(), '>', 1)
      .execute();
  }

  it(`ends exact after ≥${KILLS} kills at random points`, async () => {
    const started = Date.now();
    const rng = mulberry32(dialect === 'sqlite' ? 2024 : 2025);
    const attempts: Attempt[] = [];
    let expiredWaits = 0;
    let busyChecked = false;
    /** Children started only to see the dead holder's lease refuse them. */
    const extra: Attempt[] = [];
    while (attempts.filter((a) => a.killed).length < KILLS && attempts.length < 40) {
      const r = rng();
      // Half the kills after a random delay (anywhere: opening the client, reference data, a batch in
      // flight, a transaction being written); half at or just after a commit. The first kill comes
      // within 50 ms of the start — before any commit on any machine — and the second right at one.
      const plan: Plan =
        attempts.length === 0
          ? { kind: 'delay', ms: Math.floor(r * 50) }
          : attempts.length === 1 || r >= 0.5
            ? {
                kind: 'progress',
                n: 1 + Math.floor(rng() * 4),
                extraMs: r < 0.75 ? 0 : Math.floor(rng() * 80),
              }
            : { kind: 'delay', ms: Math.floor(rng() * MAX_DELAY_MS) };
      const a = await attempt(plan);
      attempts.push(a);
      a.cursors = await assertCommittedPrefixExact();
      for (const table of ['b24_deal', 'b24_contact', 'b24_product_row'] as const)
        expect(await duplicates(table), table).toEqual([]);
      if (!a.killed) {
        // It finished before the kill came: a complete run, and the next one starts over.
        expect(a.code, a.stderr + JSON.stringify(a.summary)).toBe(0);
        expect(a.summary?.status).toBe('finished');
        continue;
      }
      const held = await lease();
      if (!held) continue;
      expect(held.expires_at).toBeLessThanOrEqual(Date.now() + LEASE_MS);
      if (expiredWaits < 2 && attempts.length % 4 === 0) {
        // Leave the dead holder's lease to expire, as a restarted instance would have to.
        if (!busyChecked && held.expires_at - Date.now() > 900) {
          busyChecked = true;
          const blocked = await attempt(null);
          extra.push(blocked);
          if ((await lease())?.holder === held.holder) {
            expect(blocked.busy, blocked.stderr).toBe(true);
            expect(blocked.code).toBe(3);
          }
        }
        expiredWaits++;
        await new Promise((r) => setTimeout(r, Math.max(0, held.expires_at - Date.now() + 20)));
      } else {
        await store.db
          .deleteFrom('sync_lease')
          .where('portal_id', '=', portalId)
          .where('holder', '=', held.holder)
          .execute();
      }
    }
    const final = await attempt(null);
    expect(final.code, final.stderr).toBe(0);
    expect(final.summary?.status).toBe('finished');
    expect(final.summary?.error).toBeNull();

    const killed = attempts.filter((a) => a.killed);
    const planText = (p: Plan | null) =>
      !p
        ? 'no kill'
        : p.kind === 'delay'
          ? `kill ${p.ms}ms after start`
          : p.kind === 'state'
            ? 'kill at a state'
            : `kill ${p.extraMs}ms after commit #${p.n}`;
    const report = [...attempts, ...extra].map(
      (a) =>
        `${planText(a.plan)}: ${a.killed ? 'killed' : a.busy ? 'busy' : `exit ${a.code}`} after ${a.progress} commits, ${a.ms}ms; last commit at ${a.lastProgressMs ?? '-'}ms; then cursors deal ${a.cursors?.deal}, contact ${a.cursors?.contact}`,
    );
    console.log(
      `[${dialect}] ${attempts.length} attempts, ${killed.length} killed, final run ${final.ms}ms (${final.progress} commits), ${Date.now() - started}ms in all\n  ${report.join('\n  ')}`,
    );
    expect(killed.length).toBeGreaterThanOrEqual(KILLS);
    // The kills landed both before the first commit of a run and after some commits, and some left a
    // pass half done, for the next run to resume from its checkpoint (if not: the engine's commit
    // unit outgrew the data set — raise CLUSTER_GAP).
    expect(killed.some((a) => a.progress === 0)).toBe(true);
    expect(killed.some((a) => a.progress > 0)).toBe(true);
    expect(
      killed.some((a) => typeof a.cursors?.deal === 'number' || typeof a.cursors?.contact === 'number'),
    ).toBe(true);

    await assertMirrorExact();
    for (const table of ['b24_deal', 'b24_contact', 'b24_product_row'] as const)
      expect(await duplicates(table), table).toEqual([]);

    // Run log: the runs that completed are 'finished'; every other run was killed and is not.
    const runs = await store.db
      .selectFrom('sync_run')
      .selectAll()
      .where('portal_id', '=', portalId)
      .orderBy('id')
      .execute();
    const completed = new Set(
      [...attempts, ...extra, final].flatMap((a) => (a.summary ? [a.summary.runId] : [])),
    );
    expect(runs.filter((r) => r.status === 'finished').map((r) => r.id)).toEqual(
      [...completed].sort((a, b) => a - b),
    );
    const abandoned = runs.filter((r) => !completed.has(r.id));
    // A killed run that had committed something had its row inserted before; an earlier kill may
    // come before the insert.
    expect(abandoned.length).toBeGreaterThanOrEqual(killed.filter((a) => a.progress > 0).length);
    expect(abandoned.length).toBeLessThanOrEqual(killed.length);
    for (const r of abandoned) {
      expect(['running', 'failed']).toContain(r.status);
      if (r.status === 'running') expect(r.finished_at).toBeNull();
    }
    expect(runs.at(-1)!.id).toBe(final.summary!.runId);

    // Checkpoints: both passes complete, with their watermarks; the lease is released.
    const cps = await store.db
      .selectFrom('sync_checkpoint')
      .selectAll()
      .where('portal_id', '=', portalId)
      .orderBy('entity')
      .execute();
    expect(cps.map((c) => [c.entity, c.cursor, c.watermark !== null])).toEqual([
      ['contact', null, true],
      ['deal', null, true],
      ['reference', null, true],
    ]);
    expect(await lease()).toBeUndefined();
  }, 120_000);

  // Regression: a run killed once one pass was complete and the other not made the next run read the
  // complete one again (a closed checkpoint said "not started" as well as "done"). Killed at the first
  // commit after which exactly one of the two passes has all its rows, it must resume the other only.
  it('a run killed with one pass complete resumes the other without reading the complete one again', async () => {
    const t = emu.emulator.portal.data.tables;
    await store.db.deleteFrom('sync_checkpoint').where('portal_id', '=', portalId).execute();
    await store.db.deleteFrom('sync_lease').where('portal_id', '=', portalId).execute();
    const done = (r: Record<string, EntityCounts>) => [r.deal?.upserted === t.deal.size, r.contact?.upserted === t.contact.size];
    const killed = await standby().go({ kind: 'state', when: (r) => done(r)[0] !== done(r)[1] });
    expect(killed.killed, killed.stderr).toBe(true);
    const cursors = await assertCommittedPrefixExact();
    const complete = (['deal', 'contact'] as const).filter((e) => cursors[e] === null);
    const open = (['deal', 'contact'] as const).filter((e) => typeof cursors[e] === 'number');
    expect([complete.length, open.length], JSON.stringify(cursors)).toEqual([1, 1]);
    await store.db.deleteFrom('sync_lease').where('portal_id', '=', portalId).execute();
    const resumed = await standby().go(null);
    expect(resumed.summary?.status, resumed.stderr).toBe('finished');
    expect(resumed.summary!.entities[complete[0]!]!.fetched).toBe(0);
    if (complete[0] === 'deal') expect(resumed.summary!.entities.productrow!.fetched).toBe(0);
    // The open pass went on from its cursor.
    const table = open[0] === 'deal' ? t.deal : t.contact;
    expect(resumed.summary!.entities[open[0]!]!.fetched).toBe([...table.all()].filter((r) => r.ID > cursors[open[0]!]!).length);
    await assertMirrorExact();
  }, 30_000);

  // Regression: a resumed full pass once took the *resuming* run's start as the entity's watermark,
  // though the ranges committed by the killed run were read earlier, so a deal changed between the
  // kill and the restart (longer than the overlap before it) was never seen by incremental runs.
  // Shown with a 1 s overlap and a ~3 s outage.
  (dialect === DIALECTS[0] ? it : it.skip)(
    'a resumed full pass keeps the watermark of its start, so changes made while the sync was down are not lost',
    async () => {
      const t = emu.emulator.portal.data.tables;
      await store.db.deleteFrom('sync_checkpoint').where('portal_id', '=', portalId).execute();
      const killed = await standby().go({ kind: 'progress', n: 1, extraMs: 0 });
      expect(killed.killed).toBe(true);
      const cursor = (await assertCommittedPrefixExact()).deal;
      expect(cursor).toBeTypeOf('number');
      await store.db.deleteFrom('sync_lease').where('portal_id', '=', portalId).execute();
      // Changed in the portal while no sync runs: a deal the killed run had already committed.
      const changed = [...t.deal.all()].find((d) => d.ID <= cursor! && d.ID > 100)!;
      emu.emulator.crm.update('deal', changed.ID, {
        OPPORTUNITY: 777.77,
        TITLE: 'changed while the sync was down',
      });
      await new Promise((r) => setTimeout(r, 3000));
      const resumed = await standby().go(null);
      expect(resumed.summary?.status, resumed.stderr).toBe('finished');
      const inc = await standby({ SYNC_MODE: 'incremental', OVERLAP_MS: '1000' }).go(null);
      expect(inc.summary?.status, inc.stderr).toBe('finished');
      expect(inc.summary?.mode).toBe('incremental');
      const row = await store.db
        .selectFrom('b24_deal')
        .select(['opportunity_minor', 'title'])
        .where('portal_id', '=', portalId)
        .where('id', '=', changed.ID)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ opportunity_minor: 77777, title: 'changed while the sync was down' });
    },
    30_000,
  );
});
