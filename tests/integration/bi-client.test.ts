// The BI Builder emulator against a real (tiny) connector: exact wire bodies as Bitrix24 builds
// them, the answer validator, and the biconnector.* REST methods including source.add's
// synchronous urlCheck.
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import qs from 'qs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BiBuilderClient,
  BiProtocolError,
  mapType,
  phpBuildQuery,
  type BiConnectorUrls,
} from '../../src/emulator/bi-client.js';
import type { AuthInfo } from '../../src/emulator/method.js';
import {
  biClientForDataset,
  biconnectorMethods,
  biconnectorState,
} from '../../src/emulator/methods/biconnector.js';
import { Portal } from '../../src/emulator/portal.js';

// ───────────── the connector under test ─────────────

const TOKEN = 's3cr3t';
const CONN = `connection%5Btoken%5D=${TOKEN}`;
const DESC = [
  { code: 'ORDER_ID', name: 'Order ID', type: 'int' },
  { code: 'AMOUNT', name: 'Amount', type: 'Double' },
  { code: 'CREATED_AT', name: 'Created', type: 'DATETIME' },
  { code: 'DAY', name: 'Day', type: 'date' },
  { code: 'STATUS', name: 'Status', type: 'string' },
];
const CODES = DESC.map((c) => c.code);
const ORDERS: Record<string, unknown>[] = Array.from({ length: 30 }, (_, i) => {
  const iso = new Date(Date.UTC(2024, 6 + i, 15, 10, 30, 0)).toISOString();
  return {
    ORDER_ID: 101 + i,
    AMOUNT: i % 3 === 0 ? null : 100 + i * 10.25,
    CREATED_AT: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`,
    DAY: iso.slice(0, 10),
    STATUS: ['paid', 'shipped', 'cancelled'][i % 3],
  };
});

interface Hit {
  path: string;
  raw: string;
  body: any;
  headers: Record<string, unknown>;
}
const hits: Hit[] = [];
const hanging: (() => void)[] = [];
let connector: FastifyInstance;
let base: string;

/** `01.01.2025 00:00:00` → `2025-01-01 00:00:00`, comparable with CREATED_AT. */
const fromRu = (s: string) => s.replace(/^(\d\d)\.(\d\d)\.(\d{4}) /, '$3-$2-$1 ');

async function startConnector() {
  const app = Fastify();
  await app.register(formbody, {
    parser: (s: string) => {
      const parsed = qs.parse(s, { depth: 10, arrayLimit: 1000 });
      Object.defineProperty(parsed, '__raw', { value: s });
      return parsed;
    },
  });
  app.addHook('preHandler', async (req) => {
    const body = (req.body ?? {}) as any;
    hits.push({ path: req.url, raw: body.__raw ?? '', body, headers: req.headers });
  });
  const authorized = (body: any) => body?.connection?.token === TOKEN;

  app.post('/check', async (req, reply) =>
    authorized(req.body) ? { status: 'ok' } : reply.code(403).send({ error: 'WRONG_TOKEN' }),
  );
  app.post('/moved', async (_req, reply) => reply.code(307).header('location', '/check').send(''));
  app.post('/tables', async (req, reply) => {
    const b = req.body as any;
    if (!authorized(b)) return reply.code(403).send({ error: 'WRONG_TOKEN' });
    const all = [
      { code: 'orders', title: 'Orders' },
      { code: 'empty', title: 'Empty table' },
    ];
    return b.searchString
      ? all.filter((t) => t.title.toLowerCase().includes(String(b.searchString).toLowerCase()))
      : all;
  });
  app.post('/describe', async (req, reply) => {
    const b = req.body as any;
    if (!authorized(b)) return reply.code(403).send({ error: 'WRONG_TOKEN' });
    return ['orders', 'empty'].includes(b.table) ? DESC : reply.code(404).send({ error: 'NO_TABLE' });
  });
  app.post('/data', async (req, reply) => {
    const b = req.body as any;
    if (!authorized(b)) return reply.code(403).send({ error: 'WRONG_TOKEN' });
    const cols: string[] = b.select ?? CODES;
    const from = b.filter?.['>=CREATED_AT'];
    const to = b.filter?.['<=CREATED_AT'];
    let rows = b.table === 'empty' ? [] : ORDERS;
    if (from) rows = rows.filter((r) => String(r.CREATED_AT) >= fromRu(from));
    if (to) rows = rows.filter((r) => String(r.CREATED_AT) <= fromRu(to));
    const limit = Number(b.limit ?? 0);
    if (limit > 0) rows = rows.slice(0, limit);
    return [cols, ...rows.map((r) => cols.map((c) => r[c] ?? null))];
  });
  // A connector that keeps the connection alive but slow: one byte every 100 ms.
  app.post('/trickle', async (_req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/json' });
    const parts = ['[', '{"status"', ':', '"ok"', '}', ']'];
    for (const p of parts) {
      reply.raw.write(p);
      await new Promise((r) => setTimeout(r, 100));
    }
    reply.raw.end();
  });
  const canned: Record<string, [number, string]> = {
    noheader: [200, '[]'],
    order: [
      200,
      JSON.stringify([
        ['AMOUNT', 'ORDER_ID'],
        [1.5, 1],
      ]),
    ],
    width: [200, JSON.stringify([['ORDER_ID', 'AMOUNT'], [1, 2.5], [2]])],
    limit: [200, JSON.stringify([['ORDER_ID'], [1], [2], [3]])],
    types: [
      200,
      JSON.stringify([
        CODES,
        [1.5, '12.5', '2025-03-01T12:19:57+03:00', '01.03.2025', 5],
        [7, 2, '2025-02-30 10:00:00', '2025-13-01', null],
      ]),
    ],
    emptydesc: [200, '[]'],
    badtype: [200, JSON.stringify([{ code: 'X', name: 'X', type: 'boolean' }])],
    notitle: [200, JSON.stringify([{ code: 'orders' }, { code: 'zero', title: '0' }])],
    status500: [500, '{"error":"BOOM"}'],
    status201: [201, '{"status":"ok"}'],
    zero: [200, '0'],
    empty: [200, ''],
    invalid: [200, '<html>oops</html>'],
    bom: [200, '\uFEFF[]'],
    object: [200, '{"code":"orders","title":"Orders"}'],
  };
  app.post('/bad/:kind', async (req, reply) => {
    const kind = (req.params as any).kind as string;
    if (kind === 'idle') {
      // Writes nothing at all until the test ends.
      await new Promise<void>((r) => hanging.push(r));
      return reply.send('[]');
    }
    const [status, body] = canned[kind]!;
    return reply.code(status).type('application/json').send(body);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${addr.port}` };
}

beforeAll(async () => {
  ({ app: connector, base } = await startConnector());
});
afterAll(async () => {
  hanging.forEach((r) => r());
  await connector.close();
});

const urls = (over: Partial<BiConnectorUrls> = {}): BiConnectorUrls => ({
  urlCheck: `${base}/check`,
  urlTableList: `${base}/tables`,
  urlTableDescription: `${base}/describe`,
  urlData: `${base}/data`,
  ...over,
});
const client = (over: Partial<BiConnectorUrls> = {}, opts = {}) =>
  new BiBuilderClient(urls(over), { token: TOKEN }, opts);
const lastHit = () => hits[hits.length - 1]!;
/** The raw body made readable: what the reference's examples show. */
const decoded = (raw: string) => decodeURIComponent(raw.replace(/\+/g, ' '));

async function violationsOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BiProtocolError) return e.violations;
    throw e;
  }
  throw new Error('expected a BiProtocolError');
}

// ───────────── encoder ─────────────

describe('phpBuildQuery', () => {
  it('encodes like PHP http_build_query: brackets, omissions, booleans, RFC 1738', () => {
    expect(
      phpBuildQuery({
        a: null,
        b: [],
        c: {},
        u: undefined,
        d: false,
        e: true,
        f: 0,
        g: 1.5,
        h: 'x y&z=ü~*',
        'k k': '',
      }),
    ).toBe('d=0&e=1&f=0&g=1.5&h=x+y%26z%3D%C3%BC%7E%2A&k+k=');
    expect(
      phpBuildQuery({
        connection: { token: 'a b' },
        select: ['ID', 'TITLE'],
        mapFields: { ext_code: 'NAME' },
      }),
    ).toBe('connection%5Btoken%5D=a+b&select%5B0%5D=ID&select%5B1%5D=TITLE&mapFields%5Bext_code%5D=NAME');
    // Keys are encoded too (`%` prefix → %25), and nested empties vanish with their key.
    expect(
      phpBuildQuery({ filter: { '%TITLE': '50%', '>=DATE': '01.01.2025 00:00:00', x: { y: [] } } }),
    ).toBe('filter%5B%25TITLE%5D=50%25&filter%5B%3E%3DDATE%5D=01.01.2025+00%3A00%3A00');
  });

  it('keeps insertion order through Maps (JS objects would put integer keys first)', () => {
    const filter = new Map<string | number, any>([
      ['>=DATE', 'x'],
      [
        0,
        new Map<string | number, any>([
          ['LOGIC', 'OR'],
          [0, { '=STATUS': ['paid', 'shipped'] }],
        ]),
      ],
    ]);
    expect(decoded(phpBuildQuery({ filter }))).toBe(
      'filter[>=DATE]=x&filter[0][LOGIC]=OR&filter[0][0][=STATUS][0]=paid&filter[0][0][=STATUS][1]=shipped',
    );
    expect(() => phpBuildQuery({ when: new Date() as any })).toThrow(TypeError);
  });

  it('mapType: case-insensitive, money → double, unknown → string', () => {
    expect(['Int', 'DOUBLE', 'money', 'Date', 'datetime', 'string', 'timezone', 'bool'].map(mapType)).toEqual(
      ['int', 'double', 'double', 'date', 'datetime', 'string', 'string', 'string'],
    );
  });
});

// ───────────── wire bodies ─────────────

describe('wire bodies', () => {
  it('check sends only connection, with Bitrix HttpClient headers', async () => {
    expect(await client().check()).toEqual({ status: 200, body: '{"status":"ok"}' });
    const h = lastHit();
    expect(h.raw).toBe(CONN);
    expect(h.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(h.headers.connection).toBe('close');
    expect(h.headers.accept).toBe('*/*');
  });

  it('connection is omitted when the connector declares no settings', async () => {
    await expect(new BiBuilderClient(urls(), {}).check()).rejects.toThrow(/HTTP 403/);
    expect(lastHit().raw).toBe('');
  });

  it('tables: searchString absent, empty, set', async () => {
    expect(await client().tables()).toHaveLength(2);
    expect(lastHit().raw).toBe(CONN);
    await client().tables(null);
    expect(lastHit().raw).toBe(CONN);
    await client().tables('');
    expect(lastHit().raw).toBe(`searchString=&${CONN}`);
    expect(await client().tables('empty t')).toEqual([{ code: 'empty', title: 'Empty table' }]);
    expect(lastHit().raw).toBe(`searchString=empty+t&${CONN}`);
  });

  it('describe: table then connection; types mapped case-insensitively', async () => {
    const cols = await client().describe('orders');
    expect(lastHit().raw).toBe(`table=orders&${CONN}`);
    expect(cols.map((c) => c.type)).toEqual(['int', 'double', 'datetime', 'date', 'string']);
  });

  it('(a) preview: limit=20, no select/filter/mapFields; all described columns', async () => {
    const columns = await client().describe('orders');
    const r = await client().data({ table: 'orders', limit: 20, columns });
    expect(lastHit().raw).toBe(`limit=20&${CONN}&table=orders`);
    expect(r.header).toEqual(CODES);
    expect(r.rows).toHaveLength(20);
    expect(JSON.parse(r.raw)).toEqual([r.header, ...r.rows]);
  });

  it('(b) BI query: select, limit=0 (no truncation), mapFields', async () => {
    const select = ['ORDER_ID', 'AMOUNT', 'CREATED_AT'];
    const mapFields = { ORDER_ID: 'ORDER_ID', AMOUNT: 'AMOUNT', CREATED_AT: 'CREATED_AT' };
    const r = await client().data({
      table: 'orders',
      select,
      limit: 0,
      mapFields,
      columns: DESC.map((c) => ({ code: c.code, type: mapType(c.type) })),
    });
    expect(lastHit().raw).toBe(
      `select%5B0%5D=ORDER_ID&select%5B1%5D=AMOUNT&select%5B2%5D=CREATED_AT&limit=0&${CONN}&table=orders` +
        '&mapFields%5BORDER_ID%5D=ORDER_ID&mapFields%5BAMOUNT%5D=AMOUNT&mapFields%5BCREATED_AT%5D=CREATED_AT',
    );
    expect(r.header).toEqual(select);
    expect(r.rows).toHaveLength(30);
  });

  it('(c) date range in the ru locale: start 00:00:00, end 23:59:59', async () => {
    const r = await client().data({
      table: 'orders',
      filter: [{ dateRange: { field: 'CREATED_AT', from: '2025-01-01', to: '2025-12-31' } }],
    });
    expect(lastHit().raw).toBe(
      `filter%5B%3E%3DCREATED_AT%5D=01.01.2025+00%3A00%3A00&filter%5B%3C%3DCREATED_AT%5D=31.12.2025+23%3A59%3A59&limit=0&${CONN}&table=orders`,
    );
    expect(lastHit().body.filter).toEqual({
      '>=CREATED_AT': '01.01.2025 00:00:00',
      '<=CREATED_AT': '31.12.2025 23:59:59',
    });
    expect(r.rows).toHaveLength(12);
  });

  it('dates in the en locale (UNCONFIRMED form) and Date values in the portal offset', async () => {
    const en = client({}, { locale: 'en', utcOffsetMinutes: 180 });
    await en.data({
      table: 'empty',
      filter: [
        { dateRange: { field: 'DAY', from: '2025-01-01', to: new Date('2025-12-31T22:30:00Z') } },
        { field: 'CREATED_AT', op: '<', value: new Date('2025-05-31T14:01:55Z') },
      ],
    });
    expect(lastHit().body.filter).toEqual({
      '>=DAY': '01/01/2025 12:00:00 am',
      '<=DAY': '01/01/2026 11:59:59 pm',
      '<CREATED_AT': '05/31/2025 05:01:55 pm',
    });
    await client({}, { utcOffsetMinutes: 180 }).data({
      table: 'empty',
      filter: [{ field: 'CREATED_AT', op: '>=', value: new Date('2025-05-31T14:01:55Z') }],
    });
    expect(lastHit().body.filter).toEqual({ '>=CREATED_AT': '31.05.2025 17:01:55' });
  });

  it('(d) OR groups, negation, %, ><, IS_NULL as "0"', async () => {
    await client().data({
      table: 'orders',
      filter: [
        { or: [{ field: 'STATUS', op: '=', value: ['paid', 'shipped'] }] },
        {
          or: [
            { field: 'STATUS', op: '=', value: 'cancelled', negate: true },
            { field: 'AMOUNT', op: '><', value: [100, 200.5] },
          ],
        },
        {
          or: [
            { field: 'STATUS', op: '%', value: 'pai' },
            { field: 'STATUS', op: '%', value: 'x', negate: true },
            { field: 'DAY', op: 'isNull' },
            { field: 'AMOUNT', op: '><', value: [1, 2], negate: true },
          ],
        },
      ],
    });
    expect(decoded(lastHit().raw)).toBe(
      'filter[0][LOGIC]=OR&filter[0][0][=STATUS][0]=paid&filter[0][0][=STATUS][1]=shipped' +
        '&filter[1][LOGIC]=OR&filter[1][0][!=STATUS]=cancelled&filter[1][1][><AMOUNT][0]=100&filter[1][1][><AMOUNT][1]=200.5' +
        '&filter[2][LOGIC]=OR&filter[2][0][%STATUS]=pai&filter[2][1][!%STATUS]=x&filter[2][2][=DAY]=0' +
        '&filter[2][3][!><AMOUNT][0]=1&filter[2][3][!><AMOUNT][1]=2' +
        `&limit=0&connection[token]=${TOKEN}&table=orders`,
    );
    expect(lastHit().raw).toContain('filter%5B2%5D%5B0%5D%5B%25STATUS%5D=pai');
    const f = lastHit().body.filter;
    expect(f[0].LOGIC).toBe('OR');
    expect(f[0][0]['=STATUS']).toEqual(['paid', 'shipped']);
    expect(f[2][2]['=DAY']).toBe('0');
  });

  it("reproduces the reference's §1.7 example body exactly", async () => {
    await client().data({
      table: 'orders',
      select: ['ORDER_ID', 'AMOUNT', 'CREATED_AT'],
      filter: [
        { dateRange: { field: 'CREATED_AT', from: '2025-01-01', to: '2025-12-31' } },
        { or: [{ field: 'STATUS', op: '=', value: ['paid', 'shipped'] }] },
      ],
      limit: 0,
      mapFields: { ORDER_ID: 'ORDER_ID', AMOUNT: 'AMOUNT', CREATED_AT: 'CREATED_AT' },
    });
    expect(decoded(lastHit().raw)).toBe(
      [
        'select[0]=ORDER_ID&select[1]=AMOUNT&select[2]=CREATED_AT',
        '&filter[>=CREATED_AT]=01.01.2025 00:00:00&filter[<=CREATED_AT]=31.12.2025 23:59:59',
        '&filter[0][LOGIC]=OR&filter[0][0][=STATUS][0]=paid&filter[0][0][=STATUS][1]=shipped',
        '&limit=0&connection[token]=s3cr3t&table=orders',
        '&mapFields[ORDER_ID]=ORDER_ID&mapFields[AMOUNT]=AMOUNT&mapFields[CREATED_AT]=CREATED_AT',
      ].join(''),
    );
  });

  it('follows a 307 redirect with the body, as HttpClient does', async () => {
    const before = hits.length;
    await client({ urlCheck: `${base}/moved` }).check();
    expect(hits.slice(before).map((h) => [h.path, h.raw])).toEqual([
      ['/moved', CONN],
      ['/check', CONN],
    ]);
  });
});

// ───────────── validation ─────────────

describe('answer validation', () => {
  const bad = (kind: string) => `${base}/bad/${kind}`;

  it('accepts a header-only answer for zero rows, rejects a bare []', async () => {
    const r = await client().data({ table: 'empty', columns: DESC });
    expect(r).toMatchObject({ header: CODES, rows: [] });
    expect(await violationsOf(client({ urlData: bad('noheader') }).data({ table: 'orders' }))).toEqual([
      expect.stringMatching(/header row missing/),
    ]);
  });

  it('wrong column order, row width, limit exceeded', async () => {
    expect(
      await violationsOf(
        client({ urlData: bad('order') }).data({ table: 'orders', select: ['ORDER_ID', 'AMOUNT'] }),
      ),
    ).toEqual([expect.stringMatching(/header \[AMOUNT,ORDER_ID\] != select \[ORDER_ID,AMOUNT\]/)]);
    expect(await violationsOf(client({ urlData: bad('width') }).data({ table: 'orders' }))).toEqual([
      expect.stringMatching(/row 2: width 1 != header width 2/),
    ]);
    expect(await violationsOf(client({ urlData: bad('limit') }).data({ table: 'orders', limit: 2 }))).toEqual(
      [expect.stringMatching(/3 rows returned for limit=2/)],
    );
    // The same answer is fine when limit=0 means "all".
    await expect(
      client({ urlData: bad('limit') }).data({ table: 'orders', limit: 0 }),
    ).resolves.toMatchObject({ header: ['ORDER_ID'] });
  });

  it('wrong value types: every violation is listed', async () => {
    const v = await violationsOf(client({ urlData: bad('types') }).data({ table: 'orders', columns: DESC }));
    expect(v).toEqual([
      'row 1, ORDER_ID (int): 1.5 is not a JSON integer',
      'row 1, AMOUNT (double): "12.5" is not a JSON number',
      'row 1, CREATED_AT (datetime): "2025-03-01T12:19:57+03:00" is not \'YYYY-MM-DD HH:MM:SS\'',
      'row 1, DAY (date): "01.03.2025" is not \'YYYY-MM-DD\'',
      'row 1, STATUS (string): 5 is not a string',
      'row 2, CREATED_AT (datetime): "2025-02-30 10:00:00" is not \'YYYY-MM-DD HH:MM:SS\'',
      'row 2, DAY (date): "2025-13-01" is not \'YYYY-MM-DD\'',
    ]);
  });

  it('description: empty, unknown type; table list: missing title, "0" title, not an array', async () => {
    expect(await violationsOf(client({ urlTableDescription: bad('emptydesc') }).describe('orders'))).toEqual([
      expect.stringMatching(/empty table description/),
    ]);
    expect(await violationsOf(client({ urlTableDescription: bad('badtype') }).describe('orders'))).toEqual([
      expect.stringMatching(/type "boolean"/),
    ]);
    expect(await violationsOf(client({ urlTableList: bad('notitle') }).tables())).toEqual([
      expect.stringMatching(/table #0: "title" must be a non-empty string/),
      expect.stringMatching(/table #1: "title" must be a non-empty string \(not "0"\)/),
    ]);
    expect(await violationsOf(client({ urlTableList: bad('object') }).tables())).toEqual([
      'answer is not a JSON array',
    ]);
  });

  it('non-200, "0" and empty bodies, invalid JSON, BOM', async () => {
    const e500 = await client({ urlCheck: bad('status500') })
      .check()
      .catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(BiProtocolError);
    expect(e500).toMatchObject({
      endpoint: 'check',
      status: 500,
      body: '{"error":"BOOM"}',
      violations: [expect.stringMatching(/HTTP 500/)],
    });
    expect(await violationsOf(client({ urlCheck: bad('status201') }).check())).toEqual([
      expect.stringMatching(/HTTP 201 \(Bitrix accepts exactly 200\)/),
    ]);
    expect(await violationsOf(client({ urlCheck: bad('zero') }).check())).toEqual([
      expect.stringMatching(/empty answer "0"/),
    ]);
    expect(await violationsOf(client({ urlCheck: bad('empty') }).check())).toEqual([
      expect.stringMatching(/empty answer ""/),
    ]);
    expect(await violationsOf(client({ urlData: bad('invalid') }).data({ table: 'orders' }))).toEqual([
      expect.stringMatching(/^invalid JSON/),
    ]);
    expect(await violationsOf(client({ urlTableList: bad('bom') }).tables())).toEqual([
      expect.stringMatching(/^invalid JSON/),
    ]);
  });

  it('aborts an idle connector, but not a slow one that keeps sending', async () => {
    const t0 = Date.now();
    expect(
      await violationsOf(client({ urlData: bad('idle') }, { idleTimeoutMs: 300 }).data({ table: 'orders' })),
    ).toEqual(['idle timeout: no byte received for 300 ms']);
    expect(Date.now() - t0).toBeLessThan(2_000);
    // ~600 ms in total, but never 300 ms of silence.
    await expect(client({ urlCheck: `${base}/trickle` }, { idleTimeoutMs: 300 }).check()).resolves.toEqual({
      status: 200,
      body: '[{"status":"ok"}]',
    });
  });

  it('connection refused is a protocol error too', async () => {
    const v = await violationsOf(
      new BiBuilderClient({ ...urls(), urlCheck: 'http://127.0.0.1:1/x' }, {}).check(),
    );
    expect(v[0]).toMatch(/ECONNREFUSED/);
  });
});

// ───────────── biconnector.* methods ─────────────

describe('biconnector methods', () => {
  const portal = new Portal();
  const admin: AuthInfo = {
    kind: 'oauth',
    userId: 1,
    isAdmin: true,
    scope: ['biconnector'],
    clientKey: 'local.test',
    appId: 'local.test',
  };
  const other: AuthInfo = { ...admin, clientKey: 'local.other', appId: 'local.other' };

  async function call(name: string, params: Record<string, unknown>, auth: AuthInfo = admin): Promise<any> {
    const def = biconnectorMethods.find((m) => m.name === name);
    if (!def) throw new Error(`no ${name}`);
    return (await def.handler({ portal, auth, params, start: undefined, method: name })).result;
  }
  const errorOf = (r: any) => r?.error?.error as string | undefined;
  const connectorFields = () => ({
    title: 'Acme data',
    logo: 'data:image/svg+xml;base64,PHN2Zy8+',
    description: 'Acme orders',
    urlCheck: `${base}/check`,
    urlTableList: `${base}/tables`,
    urlTableDescription: `${base}/describe`,
    urlData: `${base}/data`,
    settings: [{ name: 'Access token', type: 'STRING', code: 'token' }],
    sort: 100,
  });
  const datasetFields = (sourceId: number, over: Record<string, unknown> = {}) => ({
    sourceId,
    name: 'acme_orders',
    externalName: 'Orders',
    externalCode: 'orders',
    fields: DESC.map((c) => ({ name: c.code, externalCode: c.code, type: mapType(c.type) })),
    ...over,
  });
  let connectorId: number;
  let sourceId: number;

  it('every method is app-only in the biconnector scope', () => {
    expect(biconnectorMethods.every((m) => m.appOnly === true && m.scope === 'biconnector')).toBe(true);
  });

  it('errors come back inside result (HTTP 200 form) — access denied for non-admins', async () => {
    const r = await call('biconnector.connector.list', {}, { ...admin, isAdmin: false });
    expect(r).toEqual({ error: { error: 'ACCESS_DENIED', error_description: 'Access denied.' } });
  });

  it('connector.add validates fields strictly', async () => {
    const cases: [Record<string, unknown> | undefined, string][] = [
      [undefined, 'VALIDATION_FIELDS_NOT_PROVIDED'],
      [{ ...connectorFields(), color: 'red' }, 'VALIDATION_UNKNOWN_PARAMETERS'],
      [{ ...connectorFields(), urlData: undefined }, 'VALIDATION_REQUIRED_FIELD_MISSING'],
      [{ ...connectorFields(), supportMapping: 'Y' }, 'VALIDATION_INVALID_FIELD_TYPE'],
      [{ ...connectorFields(), supportMapping: '1' }, 'VALIDATION_INVALID_FIELD_TYPE'],
      [{ ...connectorFields(), sort: 'high' }, 'VALIDATION_INVALID_FIELD_TYPE'],
      [{ ...connectorFields(), id: 5 }, 'VALIDATION_READ_ONLY_FIELD'],
      [
        { ...connectorFields(), settings: [{ name: 'Token', type: 'STRING' }] },
        'VALIDATION_SETTINGS_MISSING_REQUIRED_FIELDS',
      ],
      [
        { ...connectorFields(), settings: [{ name: 'Token', type: 'BOOL', code: 't' }] },
        'VALIDATION_SETTINGS_INVALID_TYPE',
      ],
      [
        { ...connectorFields(), settings: [{ name: 'x'.repeat(513), type: 'INT', code: 't' }] },
        'VALIDATION_SETTINGS_NAME_TOO_LONG',
      ],
      [
        { ...connectorFields(), settings: [{ name: 'T', type: 'INT', code: 'c'.repeat(513) }] },
        'VALIDATION_SETTINGS_CODE_TOO_LONG',
      ],
    ];
    for (const [fields, code] of cases) {
      const clean = fields && Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      expect([code, errorOf(await call('biconnector.connector.add', { fields: clean }))]).toEqual([
        code,
        code,
      ]);
    }
    expect(await call('biconnector.connector.list', {})).toEqual([]);
  });

  it('connector.add / get / list / update, visible only to its app', async () => {
    const added = await call('biconnector.connector.add', {
      fields: { ...connectorFields(), supportMapping: true },
    });
    expect(added).toEqual({ id: expect.any(Number) });
    connectorId = added.id;
    const got = await call('biconnector.connector.get', { id: connectorId });
    expect(got.item).toMatchObject({
      id: connectorId,
      title: 'Acme data',
      urlData: `${base}/data`,
      settings: [{ name: 'Access token', code: 'token', type: 'STRING' }],
      sort: 100,
      supportMapping: true,
      dateCreate: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
    });
    expect(got.item).not.toHaveProperty('appId');
    expect(await call('biconnector.connector.list', { select: ['title'] })).toEqual([
      { id: connectorId, title: 'Acme data' },
    ]);
    expect(await call('biconnector.connector.list', { filter: { '%title': 'acme' } })).toHaveLength(1);
    expect(await call('biconnector.connector.list', { filter: { title: 'nope' } })).toEqual([]);
    expect(errorOf(await call('biconnector.connector.list', { select: ['color'] }))).toBe(
      'VALIDATION_FIELD_NOT_ALLOWED_IN_SELECT',
    );
    expect(errorOf(await call('biconnector.connector.get', { id: connectorId }, other))).toBe(
      'CONNECTOR_NOT_FOUND',
    );
    expect(await call('biconnector.connector.list', {}, other)).toEqual([]);
    expect(
      await call('biconnector.connector.update', { id: connectorId, fields: { title: 'Acme BI' } }),
    ).toBe(true);
    expect((await call('biconnector.connector.get', { id: connectorId })).item.title).toBe('Acme BI');
    expect(errorOf(await call('biconnector.connector.update', { fields: { title: 'x' } }))).toBe(
      'VALIDATION_ID_NOT_PROVIDED',
    );
    expect(errorOf(await call('biconnector.connector.update', { id: 'abc', fields: { title: 'x' } }))).toBe(
      'VALIDATION_INVALID_ID_FORMAT',
    );
    expect(
      errorOf(await call('biconnector.connector.update', { id: connectorId, fields: { title: 'x' } }, other)),
    ).toBe('CONNECTOR_NOT_FOUND');
  });

  it('source.add calls urlCheck synchronously; a wrong token fails', async () => {
    const before = hits.length;
    const wrong = await call('biconnector.source.add', {
      fields: { title: 'Acme', connectorId, settings: { token: 'nope' } },
    });
    expect(wrong).toEqual({
      error: { error: 'SOURCE_CREATE_CONNECTION_ERROR', error_description: 'Cannot create connection.' },
    });
    expect(hits.slice(before).map((h) => [h.path, h.raw])).toEqual([
      ['/check', 'connection%5Btoken%5D=nope'],
    ]);
    expect(await call('biconnector.source.list', {})).toEqual([]);

    expect(
      errorOf(
        await call(
          'biconnector.source.add',
          { fields: { title: 'Acme', connectorId, settings: { token: TOKEN } } },
          other,
        ),
      ),
    ).toBe('CONNECTOR_NOT_FOUND');
    expect(
      errorOf(
        await call('biconnector.source.add', {
          fields: { title: 'Acme', connectorId, active: 'Y', settings: { token: TOKEN } },
        }),
      ),
    ).toBe('VALIDATION_INVALID_FIELD_TYPE');

    const ok = await call('biconnector.source.add', {
      fields: { title: 'Acme (prod)', connectorId, settings: { token: TOKEN } },
    });
    expect(ok).toEqual({ id: expect.any(Number) });
    sourceId = ok.id;
    expect(lastHit().raw).toBe(CONN);
    const list = await call('biconnector.source.list', {});
    expect(list).toEqual([
      expect.objectContaining({
        id: sourceId,
        type: 'rest',
        code: `rest_${connectorId}`,
        title: 'Acme (prod)',
        active: true,
        connectorId,
        settings: [{ code: 'token', name: 'Access token', type: 'STRING', value: TOKEN }],
      }),
    ]);
    expect(errorOf(await call('biconnector.connector.delete', { id: connectorId }))).toBe(
      'CONNECTOR_DELETE_RESTRICTED',
    );
  });

  it('dataset.add validates name and fields', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'Acme_orders' }, 'VALIDATION_DATASET_NAME_INVALID'],
      [{ name: 'crm_deal' }, 'DATASET_ALREADY_EXIST'],
      [{ name: 'crm_dynamic_items_128' }, 'DATASET_ALREADY_EXIST'],
      [{ sourceId: 999 }, 'SOURCE_NOT_FOUND'],
      [{ fields: [] }, 'FIELDS_EMPTY'],
      [
        { fields: [{ name: 'order_id', externalCode: 'a', type: 'int' }] },
        'VALIDATION_FIELD_NAME_INVALID_FORMAT',
      ],
      [
        { fields: [{ name: `A${'B'.repeat(32)}`, externalCode: 'a', type: 'int' }] },
        'VALIDATION_FIELD_NAME_TOO_LONG',
      ],
      [
        {
          fields: [
            { name: 'A', externalCode: 'a', type: 'int' },
            { name: 'A', externalCode: 'b', type: 'int' },
          ],
        },
        'DUPLICATE_FIELDS',
      ],
      [
        {
          fields: [
            { name: 'A', externalCode: 'a', type: 'int' },
            { name: 'B', externalCode: 'a', type: 'int' },
          ],
        },
        'VALIDATION_DUPLICATE_FIELD_CODE',
      ],
      [{ fields: [{ name: 'A', externalCode: 'a', type: 'bool' }] }, 'VALIDATION_FIELD_INVALID_TYPE'],
      [{ fields: [{ name: 'A', type: 'int' }] }, 'VALIDATION_FIELD_MISSING_REQUIRED_PARAMETERS'],
      [{ name: `a${'b'.repeat(230)}` }, 'VALIDATION_DATASET_NAME_TOO_LONG'],
      [{ externalId: 3 }, 'VALIDATION_READ_ONLY_FIELD'],
    ];
    for (const [over, code] of cases) {
      expect([
        code,
        errorOf(await call('biconnector.dataset.add', { fields: datasetFields(sourceId, over) })),
      ]).toEqual([code, code]);
    }
  });

  it('dataset.add / get / list, and a BI query through biClientForDataset', async () => {
    const added = await call('biconnector.dataset.add', { fields: datasetFields(sourceId) });
    expect(added).toEqual({ id: expect.any(Number) });
    expect(errorOf(await call('biconnector.dataset.add', { fields: datasetFields(sourceId) }))).toBe(
      'NAME_EXISTS',
    );
    const got = (await call('biconnector.dataset.get', { id: added.id })).item;
    expect(got).toMatchObject({
      id: added.id,
      type: 'rest',
      name: 'acme_orders',
      externalCode: 'orders',
      externalId: expect.any(Number),
    });
    expect(got.fields.map((f: any) => [f.name, f.externalCode, f.type, f.visible, f.datasetId])).toEqual(
      DESC.map((c) => [c.code, c.code, mapType(c.type), true, added.id]),
    );
    expect(await call('biconnector.dataset.list', { select: ['name', 'sourceId'] })).toEqual([
      { id: added.id, name: 'acme_orders', sourceId },
    ]);
    expect(errorOf(await call('biconnector.dataset.get', { id: added.id }, other))).toBe('DATASET_NOT_FOUND');
    expect(() => biClientForDataset(portal, 'local.other', 'acme_orders')).toThrow(/not found/);

    const bi = biClientForDataset(portal, 'local.test', 'acme_orders');
    const r = await bi.dataFor(
      ['ORDER_ID', 'AMOUNT'],
      [{ dateRange: { field: 'CREATED_AT', from: '2025-01-01', to: '2025-12-31' } }],
    );
    expect(decoded(lastHit().raw)).toBe(
      'select[0]=ORDER_ID&select[1]=AMOUNT&filter[>=CREATED_AT]=01.01.2025 00:00:00&filter[<=CREATED_AT]=31.12.2025 23:59:59' +
        `&limit=0&connection[token]=${TOKEN}&table=orders&mapFields[ORDER_ID]=ORDER_ID&mapFields[AMOUNT]=AMOUNT`,
    );
    expect(r.header).toEqual(['ORDER_ID', 'AMOUNT']);
    expect(r.rows).toHaveLength(12);
    // Without select: every mapped field, all columns expected back.
    const all = await bi.dataFor(undefined, undefined, 20);
    expect(decoded(lastHit().raw)).toBe(
      `limit=20&connection[token]=${TOKEN}&table=orders&${CODES.map((c) => `mapFields[${c}]=${c}`).join('&')}`,
    );
    expect(all.rows).toHaveLength(20);
    // An inactive source is refused before the app is called.
    biconnectorState(portal).sources.get(sourceId)!.active = false;
    const n = hits.length;
    await expect(biClientForDataset(portal, 'local.test', 'acme_orders').dataFor()).rejects.toThrow(
      /not active/,
    );
    expect(hits.length).toBe(n);
    biconnectorState(portal).sources.get(sourceId)!.active = true;
  });

  it('dataset.fields.update adds, hides and deletes fields, all or nothing', async () => {
    const { id } = (await call('biconnector.dataset.list', { select: ['id', 'name'] })).find(
      (d: any) => d.name === 'acme_orders',
    );
    const fields = async () =>
      (await call('biconnector.dataset.get', { id })).item.fields as {
        id: number;
        name: string;
        visible: boolean;
      }[];
    const before = await fields();
    const [first, second] = before;
    // Invalid parts change nothing: a field of no dataset of ours, a name taken, a bad type.
    expect(errorOf(await call('biconnector.dataset.fields.update', { id, delete: [999_999] }))).toBe(
      'FIELD_NOT_FOUND',
    );
    expect(
      errorOf(
        await call('biconnector.dataset.fields.update', {
          id,
          delete: [first!.id],
          add: [{ name: second!.name, externalCode: 'x', type: 'int' }],
        }),
      ),
    ).toBe('DUPLICATE_FIELDS');
    expect(
      errorOf(
        await call('biconnector.dataset.fields.update', {
          id,
          add: [{ name: 'NEW_ONE', externalCode: 'n', type: 'bool' }],
        }),
      ),
    ).toBe('VALIDATION_FIELD_INVALID_TYPE');
    expect(errorOf(await call('biconnector.dataset.fields.update', { id: 999, add: [] }, other))).toBe(
      'DATASET_NOT_FOUND',
    );
    expect(await fields()).toEqual(before);
    // A valid change: one deleted, one hidden, one added — in one call.
    expect(
      await call('biconnector.dataset.fields.update', {
        id,
        delete: [first!.id],
        update: [{ id: second!.id, visible: false }],
        add: [{ name: 'NEW_ONE', externalCode: 'n', type: 'double' }],
      }),
    ).toBe(true);
    const after = await fields();
    expect(after.map((f) => [f.name, f.visible])).toEqual([
      ...before.slice(1).map((f) => [f.name, f.id !== second!.id]),
      ['NEW_ONE', true],
    ]);
  });
});
