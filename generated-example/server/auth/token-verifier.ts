import { verifierFromEnv, type TokenVerifier } from '../generated/runtime.js';

/**
 * Turns the bearer token of every request into its tenant and user: the tenant
 * of a request comes from here, never from a payload. Yours to edit.
 *
 * Production: a JWT verifier. Set TRACKHUB_JWT_SECRET (HS256, at least 32 bytes)
 * or TRACKHUB_JWKS_URL (your identity provider's keys), and optionally
 * TRACKHUB_JWT_ISSUER, TRACKHUB_JWT_AUDIENCE, TRACKHUB_JWT_TENANT_CLAIM (default
 * `tenantId`) and TRACKHUB_JWT_USER_CLAIM (default `sub`). Expired tokens are
 * refused. Or write your own: `jwtVerifier({ ... })`, a session lookup, ...
 *
 * Development: with neither variable set, it accepts `dev:<tenantId>:<userId>`
 * and trusts whatever the caller claims. The server refuses to start with it
 * unless TRACKHUB_ALLOW_DEV_TOKENS=1 (`trackhub-gen dev` sets it).
 */
export const verifyToken: TokenVerifier = verifierFromEnv();
