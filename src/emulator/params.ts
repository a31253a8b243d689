// Request parameters the way the Bitrix24 REST core reads them (rest_util.php getRequestData):
// query string first; for a POST, the body — JSON when Content-Type is exactly application/json,
// otherwise a PHP query string — overrides same-named query values. Invalid JSON silently becomes
// an empty parameter set, as on the real server.
import qs from 'qs';

const PHP_LIKE: qs.IParseOptions = {
  depth: 20,
  arrayLimit: 100_000,
  parameterLimit: 100_000,
  allowPrototypes: false,
  allowDots: false,
};

/** PHP `parse_str` semantics: `filter[>ID]=10&select[]=ID&fields[PHONE][0][VALUE]=…`. */
export function parsePhpQuery(query: string): Record<string, unknown> {
  if (!query) return {};
  return qs.parse(query, PHP_LIKE) as Record<string, unknown>;
}

export function requestParams(queryString: string, contentType: string | undefined, body: string | undefined): Record<string, unknown> {
  const fromQuery = parsePhpQuery(queryString);
  if (!body) return fromQuery;
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let fromBody: Record<string, unknown> = {};
  if (mime === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) fromBody = parsed as Record<string, unknown>;
    } catch {
      fromBody = {};
    }
  } else {
    fromBody = parsePhpQuery(body);
  }
  return { ...fromQuery, ...fromBody };
}

/** Form encoding with PHP bracket keys, for what the emulator POSTs (events, install callbacks). */
export function phpFormEncode(obj: Record<string, unknown>): string {
  return qs.stringify(obj, { arrayFormat: 'indices', encodeValuesOnly: false, skipNulls: true });
}
