// BI Builder's request bodies: `application/x-www-form-urlencoded` made by PHP `http_build_query`
// (reference bi-builder-connector.md §1.2): nested arrays in bracket notation (`filter[0][LOGIC]=OR`,
// `filter[>=VISIT_DATE]=…`), keys percent-encoded, every scalar a string, empty arrays and nulls
// omitted. Parsed here like PHP's `parse_str` does, into Maps (insertion order kept, and no key —
// `__proto__` included — can reach an object prototype). qs is not used for this: its array limit
// turns long IN lists into objects and its depth limit folds deep OR groups into literal keys.

export type FormValue = string | FormMap;
export type FormMap = Map<string, FormValue>;

export class FormError extends Error {}

export interface FormLimits {
  /** Most `key=value` pairs in one body. */
  maxPairs: number;
  /** Most bracket levels under a top-level name (`filter[0][0][=X][1]` is 4). */
  maxDepth: number;
}

export const DEFAULT_FORM_LIMITS: FormLimits = { maxPairs: 5000, maxDepth: 8 };

function decode(s: string, what: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new FormError(`malformed percent-encoding in ${what} "${s.slice(0, 60)}"`);
  }
}

/** `name[a][b][]` → ['name', 'a', 'b', ''] (an empty segment appends, as in PHP). */
function keyPath(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) {
    if (open === 0) throw new FormError(`malformed key "${key.slice(0, 60)}"`);
    return [key];
  }
  const path = [key.slice(0, open)];
  let rest = key.slice(open);
  while (rest.length > 0) {
    const m = /^\[([^\]]*)\]/.exec(rest);
    if (!m) throw new FormError(`malformed key "${key.slice(0, 60)}"`);
    path.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  return path;
}

export function parsePhpForm(body: string, limits: FormLimits = DEFAULT_FORM_LIMITS): FormMap {
  const root: FormMap = new Map();
  if (!body) return root;
  const pairs = body.split('&');
  if (pairs.length > limits.maxPairs) throw new FormError(`too many parameters (${pairs.length} > ${limits.maxPairs})`);
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq), 'key');
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), 'value');
    const path = keyPath(key);
    if (path.length - 1 > limits.maxDepth) throw new FormError(`key "${key.slice(0, 60)}" is nested deeper than ${limits.maxDepth} levels`);
    let node = root;
    for (let i = 0; i < path.length; i++) {
      let seg = path[i]!;
      if (seg === '') seg = String(nextIndex(node));
      if (i === path.length - 1) {
        node.set(seg, value);
        break;
      }
      let child = node.get(seg);
      // PHP replaces a scalar by an array when a later key nests under it.
      if (!(child instanceof Map)) {
        child = new Map();
        node.set(seg, child);
      }
      node = child;
    }
  }
  return root;
}

function nextIndex(m: FormMap): number {
  let n = 0;
  for (const k of m.keys()) if (/^\d+$/.test(k) && Number(k) >= n) n = Number(k) + 1;
  return n;
}

/** A map whose keys are 0..n-1 in order (a PHP list) as an array of its values. */
export function asList(v: FormValue | undefined, what: string): FormValue[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') throw new FormError(`${what} must be an array (${what}[0]=…), got a single value`);
  return [...v.values()];
}
