/**
 * The sandbox OAuth2 provider's state machine, in memory, snapshotted to the dev worker's
 * SandboxStore after every change (oauth.tsx) so a restart of `npm run dev` forgets no token.
 * Refresh tokens rotate on every use, and replaying a used one revokes its whole family, as
 * Salesforce does: exactly the failure a double refresh causes in production.
 */
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (prefix: string) => `${prefix}${b64url(crypto.getRandomValues(new Uint8Array(24)))}`;

export interface Grant {
  slug: string;
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  scope: string;
  login: string;
  expiresAt: number;
}

interface Family {
  id: string;
  slug: string;
  /** The client the grant was made to; a refresh by another client is refused (absent in old snapshots). */
  clientId?: string;
  login: string;
  scope: string;
  revoked: boolean;
}

/**
 * Connection data the sandbox's providers answer (SPEC section 13): Salesforce's instance in its
 * token answer, Intuit's company on the callback, Atlassian's site from accessible-resources,
 * Microsoft's tenant as the id_token's `tid`.
 */
export const SANDBOX_CONNECTION = {
  instance_url: "https://sandbox-acme.my.salesforce.com",
  realmId: "9130350000000000",
  cloud_id: "11223344-a1b2-4c3d-8e9f-aabbccddeeff",
  tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
} as const;

export type TokenAnswer = { status: number; body: Record<string, unknown> };

export class SandboxProvider {
  codes = new Map<string, Grant>();
  families = new Map<string, Family>();
  refreshTokens = new Map<string, { family: string; used: boolean }>();
  accessTokens = new Map<string, { family: string; expiresAt: number }>();
  stats = { authorization_code: 0, refresh_token: 0, reuse_detected: 0, revoked: 0, userinfo: 0 };
  /** One-shot: the lifetime of the next access token issued, in seconds (tests force expiry with it). */
  nextAccessTtl: number | null = null;
  /**
   * The last request of each kind per app, as it arrived (client authentication style, client id,
   * scope string, PKCE): memory only, read by tests to check which provider shape was spoken.
   */
  seen: Record<string, Partial<Record<"authorize" | "token" | "refresh" | "revoke", Record<string, unknown>>>> = {};

  see(slug: string, what: "authorize" | "token" | "refresh" | "revoke", detail: Record<string, unknown>): void {
    (this.seen[slug] ??= {})[what] = detail;
  }

  /** Everything, as JSON: the dev worker keeps it in its SandboxStore across restarts. */
  snapshot(): string {
    return JSON.stringify({
      codes: [...this.codes], families: [...this.families], refreshTokens: [...this.refreshTokens], accessTokens: [...this.accessTokens], stats: this.stats,
    });
  }

  restore(json: string): void {
    const s = JSON.parse(json) as { codes: [string, Grant][]; families: [string, Family][]; refreshTokens: [string, { family: string; used: boolean }][]; accessTokens: [string, { family: string; expiresAt: number }][]; stats: SandboxProvider["stats"] };
    this.codes = new Map(s.codes);
    this.families = new Map(s.families);
    this.refreshTokens = new Map(s.refreshTokens);
    this.accessTokens = new Map(s.accessTokens);
    this.stats = s.stats;
  }

  authorize(grant: Omit<Grant, "expiresAt">, now: number): string {
    const code = random("sbx_code_");
    this.codes.set(code, { ...grant, expiresAt: now + 60_000 });
    return code;
  }

  async exchange(form: URLSearchParams, clientId: string | null, now: number): Promise<TokenAnswer> {
    const code = form.get("code") ?? "";
    const grant = this.codes.get(code);
    this.codes.delete(code); // single use, whatever happens next
    this.stats.authorization_code++;
    if (!grant || grant.expiresAt < now) return invalidGrant("unknown or expired code");
    if (clientId !== grant.clientId) return { status: 401, body: { error: "invalid_client" } };
    if (form.get("redirect_uri") !== grant.redirectUri) return invalidGrant("redirect_uri mismatch");
    if (grant.challenge) {
      const verifier = form.get("code_verifier") ?? "";
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
      if (b64url(digest) !== grant.challenge) return invalidGrant("PKCE verification failed");
    }
    const family: Family = { id: random("fam_"), slug: grant.slug, clientId: grant.clientId, login: grant.login, scope: grant.scope, revoked: false };
    this.families.set(family.id, family);
    return { status: 200, body: this.issue(family, now) };
  }

  refresh(form: URLSearchParams, clientId: string | null, now: number): TokenAnswer {
    this.stats.refresh_token++;
    const token = form.get("refresh_token") ?? "";
    const entry = this.refreshTokens.get(token);
    if (!entry) return invalidGrant("unknown refresh token");
    const family = this.families.get(entry.family)!;
    if (family.clientId !== undefined && clientId !== family.clientId) return { status: 401, body: { error: "invalid_client" } };
    if (family.revoked) return invalidGrant("token family revoked");
    if (entry.used) {
      // Reuse: someone holds a rotated-away token. Kill the family, as a careful provider does.
      this.stats.reuse_detected++;
      family.revoked = true;
      return invalidGrant("refresh token reused; family revoked");
    }
    entry.used = true;
    return { status: 200, body: this.issue(family, now) };
  }

  revoke(token: string): void {
    const entry = this.refreshTokens.get(token) ?? this.accessTokens.get(token);
    if (!entry) return;
    const family = this.families.get(entry.family);
    if (family && !family.revoked) {
      family.revoked = true;
      this.stats.revoked++;
    }
  }

  /** The account behind an access token, or null when it is unknown, expired or revoked. */
  accountOf(accessToken: string, now: number): Family | null {
    const entry = this.accessTokens.get(accessToken);
    if (!entry || entry.expiresAt <= now) return null;
    const family = this.families.get(entry.family);
    return family && !family.revoked ? family : null;
  }

  familyOf(token: string): Family | null {
    const entry = this.refreshTokens.get(token) ?? this.accessTokens.get(token);
    return entry ? this.families.get(entry.family) ?? null : null;
  }

  #issue(family: Family, now: number) {
    const ttl = this.nextAccessTtl ?? 3600;
    this.nextAccessTtl = null;
    const access = random("sbx_at_");
    const refresh = random("sbx_rt_");
    this.accessTokens.set(access, { family: family.id, expiresAt: now + ttl * 1000 });
    this.refreshTokens.set(refresh, { family: family.id, used: false });
    return { access, refresh, ttl };
  }

  issue(family: Family, now: number): Record<string, unknown> {
    const { access, refresh, ttl } = this.#issue(family, now);
    const who = identity(family.login);
    const base: Record<string, unknown> = { access_token: access, token_type: "Bearer", expires_in: ttl, refresh_token: refresh, scope: family.scope };
    if (family.slug === "slack") {
      // oauth.v2.access's shape, with the fixture workspace (shared/fixtures/slack).
      return { ok: true, app_id: "A0AB2AGNT7", token_type: "bot", access_token: access, scope: family.scope, bot_user_id: "U0AB3BOT01", team: { id: "T0AB1CD2EF", name: "acme-eng" }, enterprise: null, is_enterprise_install: false, authed_user: { id: "U0AB4HUMN1" } };
    }
    // Identity in every shape the catalog reads from a token answer, plus an OIDC id_token.
    return { ...base, account_id: who.id, open_id: who.id, athlete: { id: who.id, username: who.login }, team: { id: who.id, name: who.name }, id_token: unsignedJwt({ sub: who.id, email: who.email, preferred_username: who.login, name: who.name, ...(family.slug === "microsoft" ? { tid: SANDBOX_CONNECTION.tenant } : {}) }), ...(family.slug === "salesforce" ? { instance_url: SANDBOX_CONNECTION.instance_url } : {}) };
  }
}

/**
 * GitHub's token endpoint answers refusals with HTTP 200 and its own codes (arctic's GitHub class
 * reads them so; the generic client would take the answer for tokens).
 */
export function githubAnswer(answer: TokenAnswer, grantType: string | null): TokenAnswer {
  if (answer.status === 200) return answer;
  const error = answer.body.error === "invalid_client" ? "incorrect_client_credentials"
    : answer.body.error === "invalid_grant" ? (grantType === "refresh_token" ? "bad_refresh_token" : "bad_verification_code")
    : answer.body.error;
  return { status: 200, body: { error, error_description: answer.body.error_description ?? "refused", error_uri: "https://docs.github.com/apps/oauth" } };
}

function invalidGrant(description: string): TokenAnswer {
  return { status: 400, body: { error: "invalid_grant", error_description: description } };
}

function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => b64url(new TextEncoder().encode(JSON.stringify(o)));
  return `${enc({ alg: "none", typ: "JWT" })}.${enc(claims)}.`;
}

/** A sandbox account: stable ids from the login the person typed on the consent page. */
export function identity(login: string) {
  const id = `sbx-${login}`;
  return { id, login, email: `${login}@sandbox.test`, name: login.charAt(0).toUpperCase() + login.slice(1) };
}

/** The userinfo document: every path the catalog's providers read identity from. */
export function userinfo(login: string): Record<string, unknown> {
  const who = identity(login);
  const person = { id: who.id, email: who.email, name: who.name, username: who.login };
  return {
    ...person,
    sub: who.id, account_id: who.id, user_id: who.id, uuid: who.id,
    login: who.login, display_name: who.name, handle: who.login, displayName: who.name, givenName: who.name, userPrincipalName: who.email,
    data: { ...person, attributes: { email: who.email, full_name: who.name }, viewer: { id: who.id, email: who.email, name: who.name } },
    user: person,
  };
}
