import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/database.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';

describe.each(DIALECTS)('store on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store.dispose());

  it('migrates once and is idempotent afterwards', async () => {
    const again = await migrate(store);
    expect(again.results).toEqual([]);
    const all = (await store.db.introspection.getTables()).filter((t) => !t.name.startsWith('kysely_'));
    const tables = all.map((t) => t.name);
    // Later migrations add tables (clinic_*, portal_app…); the first one's must all be there.
    expect(tables).toEqual(
      expect.arrayContaining(['b24_contact', 'b24_currency', 'b24_deal', 'b24_department', 'b24_pipeline', 'b24_product', 'b24_product_row',
        'b24_product_section', 'b24_status', 'b24_user', 'b24_user_field', 'portal', 'sync_checkpoint', 'sync_lease', 'sync_run', 'portal_app']),
    );
    // Every table is keyed by portal: tenant isolation and uninstall (CLEAN) rely on it.
    expect(all.filter((t) => !t.columns.some((c) => c.name === 'portal_id')).map((t) => t.name)).toEqual([]);
  });

  it('keeps money as exact integers and big ids as numbers', async () => {
    const now = new Date().toISOString();
    await store.db
      .insertInto('b24_deal')
      .values({ portal_id: 'p1', id: 2 ** 40, category_id: 0, opportunity_minor: 123_456_789_01, uf: '{}', synced_at: now, problems: null } as never)
      .execute();
    const row = await store.db.selectFrom('b24_deal').select(['id', 'opportunity_minor']).where('portal_id', '=', 'p1').executeTakeFirstOrThrow();
    expect(row).toEqual({ id: 2 ** 40, opportunity_minor: 12_345_678_901 });
  });

  it('refuses a second row with the same portal and id', async () => {
    const now = new Date().toISOString();
    const row = { portal_id: 'p2', id: 1, category_id: 0, uf: '{}', synced_at: now, problems: null } as never;
    await store.db.insertInto('b24_deal').values(row).execute();
    await expect(store.db.insertInto('b24_deal').values(row).execute()).rejects.toThrow();
    await store.db.insertInto('b24_deal').values({ ...(row as object), portal_id: 'p3' } as never).execute();
  });
});
