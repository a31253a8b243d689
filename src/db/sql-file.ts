// SQL kept in files (sql/facts, sql/kpi): a header of `-- @key value` lines, then statements separated
// by `;` at a line end. Parameters are written `:name` and always bound, never spliced; the only
// text substituted is `{{macro}}`, filled by the caller from a fixed whitelist (dimension columns).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql, type RawBuilder } from 'kysely';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

export interface SqlFile {
  path: string;
  /** `@key value` header lines; a repeated key keeps the last value. */
  header: Map<string, string>;
  statements: string[];
}

export function parseSqlFile(text: string, path: string): SqlFile {
  const header = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^--\s*@([a-z][a-z0-9._]*)\s+(.*?)\s*$/.exec(line);
    if (m) header.set(m[1]!, m[2]!);
  }
  const body = text
    .split('\n')
    .filter((l) => !/^\s*--/.test(l))
    .join('\n');
  const statements = body
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (statements.length === 0) throw new Error(`${path}: no SQL statement`);
  return { path, header, statements };
}

export function loadSqlFile(relative: string): SqlFile {
  const path = SQL_DIR + relative;
  return parseSqlFile(readFileSync(path, 'utf8'), path);
}

export type SqlParams = Record<string, string | number | null>;

/**
 * One statement as a Kysely query: `{{macro}}` replaced from `macros` (trusted text only), `:name`
 * bound from `params`. A name the statement uses but `params` lacks is an error, not a NULL.
 */
export function bindSql(statement: string, params: SqlParams, macros: Record<string, string> = {}): RawBuilder<unknown> {
  const text = statement.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const m = macros[name];
    if (m === undefined) throw new Error(`SQL macro {{${name}}} has no value`);
    return m;
  });
  const parts: RawBuilder<unknown>[] = [];
  let last = 0;
  // `::` (PostgreSQL casts) is not a parameter.
  for (const m of text.matchAll(/(?<!:):([a-z_][a-z0-9_]*)/g)) {
    const name = m[1]!;
    if (!(name in params)) throw new Error(`SQL parameter :${name} has no value`);
    parts.push(sql.raw(text.slice(last, m.index)), sql`${params[name]}`);
    last = m.index + m[0].length;
  }
  parts.push(sql.raw(text.slice(last)));
  return sql.join(parts, sql``);
}
