import type { Principal, TokenVerifier } from '../generated/runtime.js';

/**
 * DEVELOPMENT ONLY. Replace this with a real verifier (JWT, session lookup, ...)
 * before shipping: it trusts whatever tenant and user the caller claims.
 *
 * Accepts exactly `Authorization: Bearer dev:<tenantId>:<userId>` and nothing else.
 * The tenant of every request comes from here, never from a payload.
 */
export const verifyToken: TokenVerifier = (token: string): Principal | null => {
  const match = /^dev:([^:\s]+):([^:\s]+)$/.exec(token);
  return match ? { tenantId: match[1], userId: match[2] } : null;
};
