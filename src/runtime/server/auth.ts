/**
 * Authentication: the tenant always comes from a verified token, never from a payload.
 */
import { SyncErrorCode, TrackhubError } from './errors.js';

export interface Principal {
  tenantId: string;
  userId: string;
}

/**
 * Verifies the bearer token (the text after `Bearer `) of a request.
 * Returns the principal, or null when the token is not acceptable. May be async.
 * The application supplies it (generated user-owned `server/auth/token-verifier.ts`).
 */
export type TokenVerifier = (token: string) => Principal | null | Promise<Principal | null>;

/** Header bag of an HTTP request (Express and Node both fit). */
export interface RequestLike {
  headers?: Record<string, string | string[] | undefined>;
}

/** The GraphQL context the generated server uses. */
export interface TrackhubContext {
  req?: RequestLike;
  /** Cached per request after the first successful verification. */
  principal?: Principal;
}

/** GraphQLModule `context` option: keeps the request so resolvers can read its Authorization header. */
export function createTrackhubContext({ req }: { req?: RequestLike }): TrackhubContext {
  return { req };
}

/** `Bearer <token>` -> `<token>`; anything else -> null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  return match ? match[1] : null;
}

function unauthenticated(message = 'Authentication required: send Authorization: Bearer <token>'): TrackhubError {
  return new TrackhubError(SyncErrorCode.UNAUTHENTICATED, message);
}

/** The verified principal of a request, or an UNAUTHENTICATED GraphQL error. */
export async function authenticate(context: TrackhubContext | undefined, verify: TokenVerifier): Promise<Principal> {
  if (context?.principal) return context.principal;
  const token = bearerToken(context?.req?.headers?.authorization);
  if (!token) throw unauthenticated();
  let principal: Principal | null;
  try {
    principal = await verify(token);
  } catch {
    throw unauthenticated('Invalid token');
  }
  if (
    !principal ||
    typeof principal.tenantId !== 'string' ||
    principal.tenantId === '' ||
    typeof principal.userId !== 'string' ||
    principal.userId === ''
  ) {
    throw unauthenticated('Invalid token');
  }
  const verified: Principal = { tenantId: principal.tenantId, userId: principal.userId };
  if (context) context.principal = verified;
  return verified;
}

/**
 * The development verifier of the example server: accepts exactly
 * `dev:<tenantId>:<userId>` and nothing else. Never use it in production.
 */
export const devTokenVerifier: TokenVerifier = (token) => {
  const match = /^dev:([^:\s]+):([^:\s]+)$/.exec(token);
  return match ? { tenantId: match[1], userId: match[2] } : null;
};
