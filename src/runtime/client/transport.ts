/**
 * GraphQL over fetch: the two sync operations of the wire protocol, exactly,
 * plus a generic `request` for the typed online CRUD.
 */
import { SYNC_PULL, SYNC_PUSH } from '../../contract/operations.js';
import { SYNC_PULL_RESPONSE_ADDITIONS, SYNC_PULL_SCOPE_ARG, type SyncRemoval } from '../../contract/scopes.js';

export type { SyncRemoval };

/** The subset of `fetch` the transport uses; inject your own for tests or fault injection. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface TransportOptions {
  /** GraphQL endpoint, e.g. `http://127.0.0.1:3000/graphql`. */
  url: string;
  /** Static bearer token. */
  token?: string;
  /** Token provider, called before every request (takes precedence over `token`). */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Called once when the server answers UNAUTHENTICATED (e.g. the token expired
   * while offline); the request is retried with the token it returns. When it
   * returns nothing, throws, or the retry is refused too, the request fails with
   * `AuthRequiredError`. Concurrent refusals share one call.
   */
  refreshToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Abort a request after this many milliseconds (default 30 000; 0 = never). */
  timeoutMs?: number;
}

const PULLED = SYNC_PULL_RESPONSE_ADDITIONS;
const SYNC_PULL_SELECTION = `items lastSyncAt hasMore cursor ${PULLED.removals} { id clientId } ${PULLED.scopeRevoked} ${PULLED.reset}`;
export const SYNC_PULL_QUERY = `query($entity:String!,$since:DateTime,$limit:Int,$cursor:String,$${SYNC_PULL_SCOPE_ARG}:ID){ ${SYNC_PULL}(entity:$entity,since:$since,limit:$limit,cursor:$cursor,${SYNC_PULL_SCOPE_ARG}:$${SYNC_PULL_SCOPE_ARG}){ ${SYNC_PULL_SELECTION} } }`;

/** The aliases of a document that pulls several pages at once: `p0`, `p1`, ... */
const pullAlias = (i: number): string => `p${i}`;
const PULL_VARIABLES = ['entity', 'since', 'limit', 'cursor', SYNC_PULL_SCOPE_ARG] as const;
const pullManyQueries = new Map<number, string>();

/**
 * One GraphQL document with `count` aliased `syncPull` fields (`p0: syncPull(...)`, ...), the
 * variables of field i suffixed with i (`$entity0`, `$since0`, ...). The same text for the same
 * count, so a server's document cache parses it once.
 */
export function syncPullManyQuery(count: number): string {
  let query = pullManyQueries.get(count);
  if (query) return query;
  const variables: string[] = [];
  const fields: string[] = [];
  for (let i = 0; i < count; i++) {
    variables.push(`$entity${i}:String!,$since${i}:DateTime,$limit${i}:Int,$cursor${i}:String,$${SYNC_PULL_SCOPE_ARG}${i}:ID`);
    const args = PULL_VARIABLES.map((v) => `${v}:$${v}${i}`).join(',');
    fields.push(`${pullAlias(i)}:${SYNC_PULL}(${args}){ ${SYNC_PULL_SELECTION} }`);
  }
  query = `query(${variables.join(',')}){ ${fields.join(' ')} }`;
  pullManyQueries.set(count, query);
  return query;
}

export const SYNC_PUSH_MUTATION = `mutation($entity:String!,$items:[JSON!]!){ ${SYNC_PUSH}(entity:$entity,items:$items){ clientId id success errorCode errorMessage version updatedAt conflict { serverData clientData serverVersion resolutionSuggested } } }`;

export interface SyncPullArgs {
  entity: string;
  since?: string | null;
  limit?: number;
  cursor?: string | null;
  /** The scope root's server id: only for an entity with a `scope` (partial sync). */
  scope?: string | null;
}

export interface SyncPullResponse {
  items: Record<string, unknown>[];
  lastSyncAt: string;
  hasMore: boolean;
  cursor?: string | null;
  /** Records that left this stream's selection since the cursor (may name records the device does not hold). */
  removals: SyncRemoval[];
  /** The scope root is not (or no longer) visible to the caller: no items, hasMore false. */
  scopeRevoked: boolean;
  /** On a pass's first page: the read rules changed, the answer starts from the beginning (drop what the pass does not send). */
  reset: boolean;
}

export interface ConflictPayload {
  serverData?: Record<string, unknown> | null;
  clientData?: Record<string, unknown> | null;
  serverVersion?: number | null;
  resolutionSuggested?: unknown;
}

export interface SyncResultItem {
  clientId?: string | null;
  id?: string | null;
  success: boolean;
  errorCode?: string | null;
  errorMessage?: string | null;
  version?: number | null;
  updatedAt?: string | null;
  conflict?: ConflictPayload | null;
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string } & Record<string, unknown>;
  path?: (string | number)[];
}

/** The request never got a GraphQL answer (offline, timeout, HTTP 5xx without a body...). */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(
    message: string,
    readonly status?: number,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** The server answered with GraphQL errors. `code` is the first error's `extensions.code`. */
export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
  readonly code: string | undefined;
  constructor(
    readonly errors: GraphQLErrorShape[],
    readonly status: number,
  ) {
    super(errors.map((e) => e.message).join('; ') || `GraphQL request failed (HTTP ${status})`);
    this.code = errors[0]?.extensions?.code;
  }
}

/**
 * The server refused the credentials and no fresh token could be had
 * (`refreshToken` missing, failed, or its token refused too). Nothing was applied.
 */
export class AuthRequiredError extends GraphQLRequestError {
  override name = 'AuthRequiredError';
  constructor(
    errors: GraphQLErrorShape[],
    status: number,
    /** Why no fresh token was used. */
    readonly reason: string,
  ) {
    super(errors, status);
    this.message = `Authentication required (${reason}): ${this.message}`;
  }
}

/** Whether an error is the server refusing the credentials. */
export function isUnauthenticated(error: unknown): error is GraphQLRequestError {
  return error instanceof GraphQLRequestError && (error.code === 'UNAUTHENTICATED' || error.status === 401);
}

function omitNullish(variables: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(variables)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

export class GraphQLTransport {
  private readonly fetchImpl: FetchLike;
  private once: Record<string, string> | null = null;
  /** A token set by `setToken` or returned by `refreshToken`; used until replaced. */
  private token: string | undefined;
  private refreshing: Promise<string | null> | null = null;

  constructor(private readonly options: TransportOptions) {
    const fallback = (globalThis as { fetch?: FetchLike }).fetch;
    const impl = options.fetch ?? fallback;
    if (!impl) throw new Error('No fetch implementation: pass `fetch` in the transport options');
    this.fetchImpl = options.fetch ? impl : impl.bind(globalThis);
    this.token = options.token;
  }

  /** Replaces the bearer token (`getToken`, when given, still wins). */
  setToken(token: string | null | undefined): void {
    this.token = token ?? undefined;
  }

  get url(): string {
    return this.options.url;
  }

  /** Headers sent with the next request only (the device's metrics report). */
  sendOnce(headers: Record<string, string>): void {
    this.once = { ...this.once, ...headers };
  }

  /** The `Authorization` header value for the next request (the transport's uploads use it too). */
  async authorization(): Promise<string | null> {
    const token = this.options.getToken ? ((await this.options.getToken()) ?? this.token) : this.token;
    return token ? `Bearer ${token}` : null;
  }

  /**
   * After an UNAUTHENTICATED answer: one `refreshToken` call (shared by the
   * requests refused meanwhile). Resolves with the fresh token, or null.
   */
  private refresh(): Promise<string | null> {
    const refreshToken = this.options.refreshToken;
    if (!refreshToken) return Promise.resolve(null);
    this.refreshing ??= (async () => {
      try {
        const fresh = await refreshToken();
        if (typeof fresh === 'string' && fresh !== '') {
          this.token = fresh;
          return fresh;
        }
        return null;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * Sends one GraphQL operation; resolves with `data`, rejects with NetworkError,
   * GraphQLRequestError, or AuthRequiredError (credentials refused, no fresh token).
   */
  async request<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...this.options.headers,
    };
    if (this.once) {
      Object.assign(headers, this.once);
      this.once = null;
    }
    const auth = await this.authorization();
    if (auth) headers.authorization = auth;
    try {
      return await this.send<T>(query, variables, headers);
    } catch (error) {
      if (!isUnauthenticated(error)) throw error;
      let fresh: string | null;
      try {
        fresh = await this.refresh();
      } catch (refreshError) {
        throw new AuthRequiredError(error.errors, error.status, `refreshToken failed: ${(refreshError as Error)?.message ?? String(refreshError)}`);
      }
      if (!fresh) throw new AuthRequiredError(error.errors, error.status, this.options.refreshToken ? 'refreshToken gave no token' : 'no refreshToken');
      try {
        return await this.send<T>(query, variables, { ...headers, authorization: `Bearer ${fresh}` });
      } catch (retryError) {
        if (isUnauthenticated(retryError)) throw new AuthRequiredError(retryError.errors, retryError.status, 'the refreshed token was refused too');
        throw retryError;
      }
    }
  }

  private async send<T>(query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<T> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const controller = timeoutMs > 0 && typeof AbortController !== 'undefined' ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
    let status = 0;
    let text = '';
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.fetchImpl(this.options.url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ query, variables }),
          ...(controller ? { signal: controller.signal } : {}),
        });
        status = response.status;
        text = await response.text();
        break;
      } catch (error) {
        // A kept-alive connection the server closed while we were busy: the request never
        // got an answer, and every sync operation is safe to replay, so send it once more.
        if (attempt === 0 && isStaleConnection(error)) continue;
        if (timer) clearTimeout(timer);
        throw new NetworkError(
          `Request to ${this.options.url} failed: ${(error as Error)?.message ?? String(error)}`,
          undefined,
          error,
        );
      }
    }
    if (timer) clearTimeout(timer);
    let body: { data?: T | null; errors?: GraphQLErrorShape[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new NetworkError(`HTTP ${status}: response is not JSON`, status);
    }
    if (body.errors && body.errors.length > 0) throw new GraphQLRequestError(body.errors, status);
    if (body.data === undefined || body.data === null)
      throw new NetworkError(`HTTP ${status}: response has no data`, status);
    return body.data;
  }

  async syncPull(args: SyncPullArgs): Promise<SyncPullResponse> {
    const data = await this.request<Record<typeof SYNC_PULL, SyncPullResponse>>(SYNC_PULL_QUERY, omitNullish({ ...args }));
    return data[SYNC_PULL];
  }

  /**
   * Several `syncPull` pages in one request (one document, one aliased field per page), in the
   * order asked. The server answers each field as it would answer it alone; when any of them
   * fails, the request rejects with every error (GraphQLRequestError), as `syncPull` would.
   */
  async syncPullMany(pages: readonly SyncPullArgs[]): Promise<SyncPullResponse[]> {
    const variables: Record<string, unknown> = {};
    for (const [i, args] of pages.entries()) {
      for (const [key, value] of Object.entries(omitNullish({ ...args }))) variables[`${key}${i}`] = value;
    }
    const data = await this.request<Record<string, SyncPullResponse>>(syncPullManyQuery(pages.length), variables);
    return pages.map((_, i) => {
      const page = data[pullAlias(i)];
      if (!page) throw new NetworkError(`syncPull: the response has no page ${pullAlias(i)}`);
      return page;
    });
  }

  async syncPush(entity: string, items: Record<string, unknown>[]): Promise<SyncResultItem[]> {
    const data = await this.request<Record<typeof SYNC_PUSH, SyncResultItem[]>>(SYNC_PUSH_MUTATION, { entity, items });
    return data[SYNC_PUSH];
  }
}

/** Errors of a reused keep-alive socket the server had already closed (Node's fetch / undici). */
export function isStaleConnection(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}
