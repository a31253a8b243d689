// Reference data — pipelines, stages and other directories, currencies, deal user fields with enum
// labels, departments, users, the catalog — is small: it is read whole (following `next` wherever
// the portal pages a list) and replaces the portal's rows in one transaction.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { PAGE_SIZE, type Job, type Source } from './batcher.js';
import { flag, int, minor, num, Problems, str } from './convert.js';
import type { CmdResult } from './rest.js';

type Rows = Record<string, unknown>[];

// Every list follows `next` when the portal pages it (the reference: clients should, even on lists
// that are usually small — a portal with more than 50 pipelines pages crm.category.list).
const LISTS: Record<string, { method: string; params: Record<string, unknown> }> = {
  pipelines: { method: 'crm.category.list', params: { entityTypeId: 2 } },
  statuses: { method: 'crm.status.list', params: { order: { SORT: 'ASC' } } },
  currencies: { method: 'crm.currency.list', params: {} },
  userFields: { method: 'crm.deal.userfield.list', params: { filter: { LANG: 'ru' } } },
  users: { method: 'user.get', params: { sort: 'ID', order: 'ASC' } },
  departments: { method: 'department.get', params: { sort: 'ID', order: 'ASC' } },
  products: { method: 'crm.product.list', params: { order: { ID: 'ASC' }, select: ['ID', 'NAME', 'SECTION_ID', 'PRICE', 'CURRENCY_ID', 'ACTIVE'] } },
  sections: { method: 'crm.productsection.list', params: { order: { ID: 'ASC' }, select: ['ID', 'NAME', 'SECTION_ID', 'CATALOG_ID'] } },
};

/** Reference data as a source of the run's batch queue: its commands ride in the run's first batch
 *  (follow-up pages of the paged lists in the next), and it commits on its own when complete. */
export class ReferenceLoad implements Source {
  finished = false;
  private readonly queue: Job[] = [];
  private waiting = 0;
  private readonly data: Record<string, Rows> = {};

  constructor(
    private readonly db: Kysely<Database>,
    private readonly portalId: string,
    /** Called first in the commit's transaction (the lease fence, the refresh time). */
    private readonly begin: (trx: Transaction<Database>) => Promise<void>,
    private readonly done: (counts: Record<string, number>) => void,
  ) {
    for (const [k, c] of Object.entries(LISTS)) {
      this.data[k] = [];
      this.queue.push(this.job(k, c, true));
    }
  }

  private job(k: string, c: { method: string; params: Record<string, unknown> }, first: boolean): Job {
    return {
      cmd: c,
      done: (r: CmdResult) => {
        this.waiting--;
        const rows = k === 'pipelines' ? ((r.result as { categories?: Rows } | undefined)?.categories ?? []) : ((r.result as Rows | undefined) ?? []);
        this.data[k]!.push(...rows);
        // The first page of a paged list is counted: its other pages all go out at once.
        if (first && r.next !== undefined) {
          for (let start = r.next; start < (r.total ?? r.next + PAGE_SIZE); start += PAGE_SIZE) {
            this.queue.push(this.job(k, { method: LISTS[k]!.method, params: { ...LISTS[k]!.params, start } }, false));
          }
        }
      },
    };
  }

  take(max: number): Job[] {
    const out = this.queue.splice(0, max);
    this.waiting += out.length;
    return out;
  }

  async settle(): Promise<boolean> {
    if (this.finished || this.queue.length || this.waiting) return false;
    await writeReference(this.db, this.portalId, this.data, this.begin);
    this.finished = true;
    this.done(Object.fromEntries(Object.entries(this.data).map(([k, v]) => [k, v.length])));
    return true;
  }
}

async function writeReference(db: Kysely<Database>, portalId: string, data: Record<string, Rows>, begin: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
  const syncedAt = new Date().toISOString();
  const p = new Problems();
  await db.transaction().execute(async (trx) => {
    await begin(trx);
    for (const t of ['b24_pipeline', 'b24_status', 'b24_currency', 'b24_user_field', 'b24_department', 'b24_user', 'b24_product', 'b24_product_section'] as const) {
      await trx.deleteFrom(t).where('portal_id', '=', portalId).execute();
    }
    const insert = async <T extends keyof Database>(table: T, rows: unknown[]) => {
      for (let i = 0; i < rows.length; i += 200) {
        await trx.insertInto(table).values(rows.slice(i, i + 200) as never).execute();
      }
    };
    await insert('b24_pipeline', data.pipelines!.map((c) => ({
      portal_id: portalId, id: int(c.id, 'id', p)!, name: str(c.name) ?? '', sort: int(c.sort, 'sort', p), is_default: flag(c.isDefault), problems: null, synced_at: syncedAt,
    })));
    await insert('b24_status', data.statuses!.map((s) => ({
      portal_id: portalId, entity_id: str(s.ENTITY_ID)!, status_id: str(s.STATUS_ID)!, name: str(s.NAME) ?? '', sort: int(s.SORT, 'SORT', p),
      category_id: int(s.CATEGORY_ID, 'CATEGORY_ID', p), semantics: str(s.SEMANTICS) ?? 'P', color: str(s.COLOR), synced_at: syncedAt,
    })));
    await insert('b24_currency', data.currencies!.map((c) => ({
      portal_id: portalId, currency: str(c.CURRENCY)!, amount_cnt: int(c.AMOUNT_CNT, 'AMOUNT_CNT', p) ?? 1, amount: num(c.AMOUNT, 'AMOUNT', p) ?? 1,
      base: flag(c.BASE), sort: int(c.SORT, 'SORT', p), synced_at: syncedAt,
    })));
    await insert('b24_user_field', data.userFields!.map((u) => ({
      portal_id: portalId, entity_id: str(u.ENTITY_ID) ?? 'CRM_DEAL', field_name: str(u.FIELD_NAME)!, user_type_id: str(u.USER_TYPE_ID) ?? 'string',
      multiple: flag(u.MULTIPLE), label: str(u.EDIT_FORM_LABEL) ?? str(u.LIST_COLUMN_LABEL),
      enum_items: JSON.stringify(((u.LIST as Rows | undefined) ?? []).map((i) => ({ id: int(i.ID, 'LIST.ID', p), value: str(i.VALUE), sort: int(i.SORT, 'LIST.SORT', p) }))),
      synced_at: syncedAt,
    })));
    await insert('b24_department', data.departments!.map((d) => ({
      portal_id: portalId, id: int(d.ID, 'ID', p)!, name: str(d.NAME), parent_id: int(d.PARENT, 'PARENT', p), sort: int(d.SORT, 'SORT', p),
      head_id: int(d.UF_HEAD, 'UF_HEAD', p), problems: null, synced_at: syncedAt,
    })));
    await insert('b24_user', data.users!.map((u) => ({
      portal_id: portalId, id: int(u.ID, 'ID', p)!, active: flag(u.ACTIVE), name: str(u.NAME), last_name: str(u.LAST_NAME), second_name: str(u.SECOND_NAME),
      work_position: str(u.WORK_POSITION), user_type: str(u.USER_TYPE), departments: JSON.stringify(u.UF_DEPARTMENT ?? []), problems: null, synced_at: syncedAt,
    })));
    await insert('b24_product', data.products!.map((x) => ({
      portal_id: portalId, id: int(x.ID, 'ID', p)!, name: str(x.NAME), section_id: int(x.SECTION_ID, 'SECTION_ID', p), price_minor: minor(x.PRICE, 'PRICE', p),
      currency_id: str(x.CURRENCY_ID), active: str(x.ACTIVE), problems: null, synced_at: syncedAt,
    })));
    await insert('b24_product_section', data.sections!.map((x) => ({
      portal_id: portalId, id: int(x.ID, 'ID', p)!, name: str(x.NAME), parent_id: int(x.SECTION_ID, 'SECTION_ID', p), catalog_id: int(x.CATALOG_ID, 'CATALOG_ID', p),
      problems: null, synced_at: syncedAt,
    })));
  });
}
