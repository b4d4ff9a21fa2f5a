// Fetch the longitudinal record from this server's own FHIR API and index it by Type/id.

// A record this long is unusual; stop there so a phone stays responsive, and say so.
export const MAX_RESOURCES = 2000;

// With authentication on, the page sends the bearer token the user pasted (kept for this
// tab only, never in the URL or a cookie).
const TOKEN_KEY = 'fhir-access-token';

export function accessToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setAccessToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class RecordError extends Error {
  /** kind: 'not-found' | 'auth' | 'server' | 'network'; diagnostics: OperationOutcome texts. */
  constructor(kind, status, diagnostics) {
    super(diagnostics.join('; ') || kind);
    this.kind = kind;
    this.status = status;
    this.diagnostics = diagnostics;
  }
}

/**
 * Every resource of the health ID, following `next` links, de-duplicated by Type/id.
 * onProgress(count) is called after each page so the page can show progress.
 */
export async function fetchRecord(identifier, { signal, onProgress } = {}) {
  // relative to the page, so a deployment under a path prefix still finds its /fhir
  let url = new URL(`fhir/Patient/$everything?${new URLSearchParams({ identifier })}`,
    document.baseURI).href;
  const resources = [];
  const seen = new Set();
  const withheld = new Set(); // what the server left out (facility boundary, scopes), said
  let capped = false;
  while (url && !capped) {
    const bundle = await getBundle(url, signal);
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      // search-mode "outcome" entries are notes about the answer, not part of the record
      if (resource?.resourceType === 'OperationOutcome') {
        for (const issue of resource.issue ?? []) {
          if (issue.code === 'suppressed' && issue.diagnostics) withheld.add(issue.diagnostics);
        }
        continue;
      }
      if (!resource) continue;
      const key = `${resource.resourceType}/${resource.id}`;
      if (seen.has(key)) continue;
      if (resources.length >= MAX_RESOURCES) {
        capped = true;
        break;
      }
      seen.add(key);
      resources.push(resource);
    }
    onProgress?.(resources.length);
    const next = (bundle.link ?? []).find((link) => link.relation === 'next')?.url;
    url = next ? sameOrigin(next) : null;
    if (url && resources.length >= MAX_RESOURCES) capped = true;
  }
  return { resources, capped, withheld: [...withheld] };
}

// The server may advertise a public base URL on another host (behind a proxy); the page
// may only talk to its own origin (CSP connect-src 'self'), so keep path and query only.
function sameOrigin(link) {
  const parsed = new URL(link, document.baseURI);
  return new URL(parsed.pathname + parsed.search, document.baseURI).href;
}

async function getBundle(url, signal) {
  let response;
  try {
    const headers = { Accept: 'application/fhir+json' };
    const token = accessToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    response = await fetch(url, { headers, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new RecordError('network', null, []);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null; // e.g. an HTML error page from a proxy: report the status instead
  }
  if (!response.ok) {
    const issues = body?.resourceType === 'OperationOutcome' ? body.issue ?? [] : [];
    const diagnostics = issues
      .map((issue) => issue.diagnostics || issue.details?.text || issue.code)
      .filter(Boolean);
    // the operation answers 404 not-found when no Patient carries the health ID;
    // any other 404 (unknown operation, wrong path) is a server problem to show as such
    const notFound = response.status === 404 && issues.some((i) => i.code === 'not-found');
    const kind = notFound ? 'not-found' : response.status === 401 ? 'auth' : 'server';
    throw new RecordError(kind, response.status, diagnostics);
  }
  if (body?.resourceType !== 'Bundle') {
    throw new RecordError('server', response.status, ['The response was not a FHIR Bundle']);
  }
  return body;
}

const REFERENCE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** A lookup of the Bundle's own resources by reference ("Type/id" or an absolute URL). */
export function indexResources(resources) {
  const byKey = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
  return {
    resolve(reference) {
      const match = REFERENCE.exec(reference?.reference ?? '');
      return match ? byKey.get(`${match[1]}/${match[2]}`) ?? null : null;
    },
    ofType(type) {
      return resources.filter((r) => r.resourceType === type);
    },
  };
}
