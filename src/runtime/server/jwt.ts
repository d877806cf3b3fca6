/**
 * Real token verification: JSON Web Tokens checked with `jose`, signed either
 * with a shared secret (HS256) or by your identity provider's keys (a JWKS URL:
 * RS256, ES256, ...). Expiry (`exp`, `nbf`) is enforced; the tenant and the user
 * come from claims. A token that fails any check reads as "no principal", so the
 * request is answered UNAUTHENTICATED and a device refreshes its token.
 *
 * And the guard that keeps development tokens out of production: a server
 * whose verifier accepts `dev:<tenant>:<user>` refuses to start unless dev
 * tokens were enabled on purpose (`allowDevTokens`, or TRACKHUB_ALLOW_DEV_TOKENS=1).
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

import { devTokenVerifier, type Principal, type TokenVerifier } from './auth.js';

export interface JwtVerifierOptions {
  /** HS256 shared secret (at least 32 bytes). Give this or `jwksUrl`. */
  secret?: string | Uint8Array;
  /** URL of the identity provider's JSON Web Key Set (keys are fetched and cached by `jose`). */
  jwksUrl?: string;
  /** Required `iss` claim (one or several accepted values). */
  issuer?: string | string[];
  /** Required `aud` claim (one or several accepted values). */
  audience?: string | string[];
  /** Claim holding the tenant id (default `tenantId`). A dotted path reads a nested claim. */
  tenantClaim?: string;
  /** Claim holding the user id (default `sub`). */
  userClaim?: string;
  /** Accepted signature algorithms (default HS256 with a secret; RS256, ES256, PS256, EdDSA with a JWKS). */
  algorithms?: string[];
  /** Leeway for `exp` and `nbf`, in seconds (default 5). */
  clockToleranceSec?: number;
  /** The verifier's clock in epoch ms (default `Date.now`; tests move it to expire tokens). */
  now?: () => number;
}

const MIN_SECRET_BYTES = 32;

/** A TokenVerifier for JWTs (HS256 secret or JWKS URL), with expiry and tenant / user claims. */
export function jwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const { secret, jwksUrl } = options;
  if ((secret === undefined) === (jwksUrl === undefined)) {
    throw new Error('jwtVerifier: give exactly one of `secret` (HS256) or `jwksUrl` (your identity provider\'s keys)');
  }
  let key: Uint8Array | ReturnType<typeof createRemoteJWKSet>;
  let algorithms: string[];
  if (secret !== undefined) {
    key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    if (key.byteLength < MIN_SECRET_BYTES) {
      throw new Error(`jwtVerifier: the HS256 secret is ${key.byteLength} bytes; use at least ${MIN_SECRET_BYTES} random bytes`);
    }
    algorithms = options.algorithms ?? ['HS256'];
  } else {
    let url: URL;
    try {
      url = new URL(jwksUrl!);
    } catch {
      throw new Error(`jwtVerifier: jwksUrl "${jwksUrl}" is not a URL`);
    }
    key = createRemoteJWKSet(url);
    algorithms = options.algorithms ?? ['RS256', 'ES256', 'PS256', 'EdDSA'];
  }
  const tenantClaim = options.tenantClaim ?? 'tenantId';
  const userClaim = options.userClaim ?? 'sub';
  const now = options.now ?? Date.now;
  return async (token: string): Promise<Principal | null> => {
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        clockTolerance: options.clockToleranceSec ?? 5,
        currentDate: new Date(now()),
        requiredClaims: ['exp'],
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
      });
      payload = verified.payload;
    } catch {
      return null; // bad signature, expired, wrong issuer or audience, malformed: UNAUTHENTICATED
    }
    const tenantId = claim(payload, tenantClaim);
    const userId = claim(payload, userClaim);
    return tenantId && userId ? { tenantId, userId } : null;
  };
}

function claim(payload: JWTPayload, name: string): string | null {
  let value: unknown = payload;
  for (const part of name.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The verifier the generated `server/auth/token-verifier.ts` starts with: a JWT
 * verifier when TRACKHUB_JWT_SECRET or TRACKHUB_JWKS_URL is set (with
 * TRACKHUB_JWT_ISSUER, TRACKHUB_JWT_AUDIENCE, TRACKHUB_JWT_TENANT_CLAIM and
 * TRACKHUB_JWT_USER_CLAIM), else the development verifier, which the server
 * refuses to start with unless dev tokens are enabled.
 */
export function verifierFromEnv(env: Record<string, string | undefined> = process.env): TokenVerifier {
  const secret = env.TRACKHUB_JWT_SECRET || undefined;
  const jwksUrl = env.TRACKHUB_JWKS_URL || undefined;
  if (!secret && !jwksUrl) return devTokenVerifier;
  if (secret && jwksUrl) throw new Error('Set TRACKHUB_JWT_SECRET or TRACKHUB_JWKS_URL, not both');
  return jwtVerifier({
    ...(secret ? { secret } : { jwksUrl: jwksUrl! }),
    ...(env.TRACKHUB_JWT_ISSUER ? { issuer: env.TRACKHUB_JWT_ISSUER } : {}),
    ...(env.TRACKHUB_JWT_AUDIENCE ? { audience: env.TRACKHUB_JWT_AUDIENCE } : {}),
    ...(env.TRACKHUB_JWT_TENANT_CLAIM ? { tenantClaim: env.TRACKHUB_JWT_TENANT_CLAIM } : {}),
    ...(env.TRACKHUB_JWT_USER_CLAIM ? { userClaim: env.TRACKHUB_JWT_USER_CLAIM } : {}),
  });
}

/** The environment switch that enables development tokens (`trackhub-gen dev` and the example server set it). */
export const ALLOW_DEV_TOKENS_ENV = 'TRACKHUB_ALLOW_DEV_TOKENS';

const PROBE_TOKEN = 'dev:trackhub-startup-probe:probe';

/**
 * Refuses a verifier that accepts development tokens, unless they are enabled.
 * It asks the verifier itself, so a hand-written copy of the dev rule is caught too.
 */
export async function assertNoDevTokens(verify: TokenVerifier, allowDevTokens: boolean | undefined): Promise<void> {
  const allowed = allowDevTokens ?? process.env[ALLOW_DEV_TOKENS_ENV] === '1';
  if (allowed) return;
  let accepted: Principal | null;
  try {
    accepted = await verify(PROBE_TOKEN);
  } catch {
    accepted = null;
  }
  if (!accepted) return;
  throw new Error(
    'Refusing to start: the token verifier accepts development tokens (Bearer dev:<tenantId>:<userId>), so any caller ' +
      'could act as any tenant. For production, configure a real verifier in server/auth/token-verifier.ts: set ' +
      'TRACKHUB_JWT_SECRET (HS256) or TRACKHUB_JWKS_URL (your identity provider), or use jwtVerifier({ ... }). ' +
      `For development only, enable dev tokens with ${ALLOW_DEV_TOKENS_ENV}=1 or the module option allowDevTokens: true.`,
  );
}
