import { describe, expect, it } from "vitest";
import { CATALOG, getApp, type OAuthApp } from "../../lib/catalog";
import { SUBDOMAIN_PLACEHOLDER } from "../../lib/catalog/schema";
import { capturedConnection, fieldConnection, formConnection, missingScopes, requestedScopes, withConnectionEndpoints, type ConnectionSources } from "../../lib/connection";
import { AppError } from "../../lib/errors";
import { fixForMcp, fixForWeb, remedyOf } from "../../lib/fixes";
import { providerConfig } from "../../lib/oauth";
import { resolve, scopesFix, type CandidateCredential, type ResolveResult } from "../../lib/resolve";
import { ConnectionInput, ScopeName } from "../../lib/schemas/connection";
import { scopesFromForm } from "../../lib/schemas/connect";
import { RequirementSchema } from "../../lib/schemas/resolution";

/** Scopes and connection data (issue 14, SPEC section 13): the pure rules. */
const oauth = (slug: string) => getApp(slug) as OAuthApp;
const CLIENTS = { zendesk: { id: "c", secret: "s" }, microsoft: { id: "c", secret: "s" } };
const NONE: ConnectionSources = { token: {}, callback: {}, idToken: null, lookups: {}, form: {} };
const thrown = (f: () => unknown): AppError => {
  try {
    f();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected an AppError");
};

describe("scope names", () => {
  it.each(["repo", "read:jira-work", "https://www.googleapis.com/auth/drive.readonly", "com.intuit.quickbooks.accounting"])("accepts %s", (x) => {
    expect(ScopeName.safeParse(x).success).toBe(true);
  });
  it.each(["repo admin", "repo,gist", 'a"b', "a\\b", "", "tab\there", "x".repeat(201)])("refuses %j (one scope per entry)", (x) => {
    expect(ScopeName.safeParse(x).success).toBe(false);
  });
  it("the form's typed scopes split on spaces and commas; ticked first, each once", () => {
    expect(scopesFromForm(["workflow"], " admin:org,, gist  workflow ")).toEqual(["workflow", "admin:org", "gist"]);
  });
  it("requested scopes: defaults, then those asked before (a step-up drops none), then the new ones", () => {
    expect(requestedScopes(["repo", "read:user"], ["repo", "gist"], ["workflow", "gist"])).toEqual(["repo", "read:user", "gist", "workflow"]);
    expect(missingScopes(["repo", "gist"], ["gist", "workflow", "workflow"])).toEqual(["workflow"]);
  });
  it("a requirement's scopes are a non-empty list of scope names", () => {
    expect(RequirementSchema.safeParse({ app: "github", scopes: ["repo"] }).success).toBe(true);
    expect(RequirementSchema.safeParse({ app: "github", scopes: [] }).success).toBe(false);
    expect(RequirementSchema.safeParse({ app: "github", scopes: ["a b"] }).success).toBe(false);
  });
});

describe("the catalog's scopes and connection declarations", () => {
  it("optional scopes never repeat a default; every templated endpoint's app asks for its subdomain in the form", () => {
    for (const app of CATALOG) {
      if (app.kind !== "oauth") continue;
      expect(app.provider.optionalScopes.filter((x) => app.provider.scopes.includes(x)), app.slug).toEqual([]);
      const p = app.provider;
      const templated = [p.authorizeUrl, p.tokenUrl, p.refreshUrl, p.revokeUrl, p.userinfoUrl].some((u) => u?.includes(SUBDOMAIN_PLACEHOLDER));
      expect(templated, app.slug).toBe(p.connection.some((c) => c.from === "form" && c.key === "subdomain"));
    }
  });
  it("declares where each connection value comes from", () => {
    expect(oauth("salesforce").provider.connection).toEqual([{ key: "instance_url", from: "token_response", path: "instance_url" }]);
    expect(oauth("quickbooks").provider.connection).toEqual([{ key: "realmId", from: "callback", param: "realmId" }]);
    expect(oauth("jira").provider.connection[0]).toMatchObject({ key: "cloud_id", from: "lookup" });
    expect(oauth("confluence").provider.connection[0]).toMatchObject({ key: "cloud_id", from: "lookup" });
    expect(oauth("microsoft").provider.connection).toEqual([{ key: "tenant", from: "id_token", path: "tid" }]);
    for (const slug of ["shopify", "zendesk"]) expect(oauth(slug).provider.connection[0], slug).toMatchObject({ key: "subdomain", from: "form" });
  });
});

describe("connection values", () => {
  it("a subdomain is one DNS label, lowercased: no dots, slashes or spaces", () => {
    expect(ConnectionInput.parse({ subdomain: " Acme-Help " })).toEqual({ subdomain: "acme-help" });
    for (const bad of ["acme.evil.com", "acme/x", "a b", "-acme", "acme-", "x".repeat(64), "acme%2e"]) {
      const r = ConnectionInput.safeParse({ subdomain: bad });
      expect(r.success, bad).toBe(false);
      expect(r.error?.issues[0]?.path, bad).toEqual(["subdomain"]);
    }
  });

  it("the form's values: required where the app asks, refused where it does not, named connection.<key>", () => {
    const zendesk = oauth("zendesk").provider.connection;
    expect(formConnection(zendesk, { subdomain: "acme" }, "Zendesk")).toEqual({ subdomain: "acme" });
    expect(thrown(() => formConnection(zendesk, undefined, "Zendesk")).details?.field).toBe("connection.subdomain");
    expect(thrown(() => formConnection(oauth("github").provider.connection, { subdomain: "acme" }, "GitHub")).details?.field).toBe("connection.subdomain");
    expect(formConnection(oauth("github").provider.connection, undefined, "GitHub")).toEqual({});
  });

  it("reads each value where declared and checks it; a missing or malformed one fails the connect", () => {
    const sf = oauth("salesforce").provider.connection;
    expect(capturedConnection(sf, { ...NONE, token: { instance_url: "https://acme.my.salesforce.com" } }, "Salesforce")).toEqual({ instance_url: "https://acme.my.salesforce.com" });
    for (const bad of [{}, { instance_url: "http://acme.my.salesforce.com" }, { instance_url: "javascript:alert(1)" }]) {
      const e = thrown(() => capturedConnection(sf, { ...NONE, token: bad }, "Salesforce"));
      expect(e.code).toBe("upstream_error");
      expect(e.message).toBe("Salesforce's token answer had no valid instance_url.");
    }
    const qb = oauth("quickbooks").provider.connection;
    expect(capturedConnection(qb, { ...NONE, callback: { realmId: "9130350000000000" } }, "QuickBooks")).toEqual({ realmId: "9130350000000000" });
    expect(thrown(() => capturedConnection(qb, { ...NONE, callback: { realmId: "12; drop" } }, "QuickBooks")).code).toBe("upstream_error");
    const jira = oauth("jira").provider.connection;
    const url = (jira[0] as { url: string }).url;
    expect(capturedConnection(jira, { ...NONE, lookups: { [url]: [{ id: "abc-123" }, { id: "zzz" }] } }, "Jira")).toEqual({ cloud_id: "abc-123" });
    expect(thrown(() => capturedConnection(jira, { ...NONE, lookups: { [url]: [] } }, "Jira")).message).toContain("no valid cloud_id");
    const ms = oauth("microsoft").provider.connection;
    expect(capturedConnection(ms, { ...NONE, idToken: { tid: "72f988bf-86f1-41af-91ab-2d7cd011db47" } }, "Microsoft")).toEqual({ tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47" });
  });

  it("an API-key app's field-held subdomain: checked, lowercased, named fields.<field>", () => {
    const fd = (getApp("freshdesk") as { connection: Parameters<typeof fieldConnection>[0] }).connection;
    expect(fieldConnection(fd, { apiKey: "k", subdomain: " Acme " }, "Freshdesk")).toEqual({ subdomain: "acme" });
    expect(thrown(() => fieldConnection(fd, { apiKey: "k", subdomain: "acme.freshdesk.com" }, "Freshdesk")).details?.field).toBe("fields.subdomain");
  });

  it("builds a subdomain app's endpoints from its connection; refuses to call one half-built", () => {
    const cfg = providerConfig(oauth("zendesk"), {}, CLIENTS);
    const built = withConnectionEndpoints(cfg, { subdomain: "acme" });
    expect([built.authorizeUrl, built.tokenUrl, built.refreshUrl, built.userinfoUrl]).toEqual([
      "https://acme.zendesk.com/oauth/authorizations/new",
      "https://acme.zendesk.com/oauth/tokens",
      "https://acme.zendesk.com/oauth/tokens",
      "https://acme.zendesk.com/api/v2/users/me.json",
    ]);
    expect(thrown(() => withConnectionEndpoints(cfg, {})).details?.field).toBe("connection.subdomain");
    expect(thrown(() => withConnectionEndpoints(cfg, { subdomain: "evil.com/x" })).details?.field).toBe("connection.subdomain");
    // Apps without a template are untouched.
    const ms = providerConfig(oauth("microsoft"), {}, CLIENTS);
    expect(withConnectionEndpoints(ms, {})).toEqual(ms);
  });
});

describe("a requirement's scopes in the resolver", () => {
  const base = { app: "github", default: false, status: "active" as const, scope: { type: "org" as const } };
  const narrow: CandidateCredential = { ...base, id: "cred_narrow", slug: "narrow", name: "narrow", default: true, scopes: ["repo"] };
  const wide: CandidateCredential = { ...base, id: "cred_wide", slug: "wide", name: "wide", scopes: ["repo", "workflow"] };
  const run = (req: Record<string, unknown>, creds = [narrow, wide]): ResolveResult =>
    resolve({ credentials: creds, assignments: [], context: {}, requirement: { app: "github", ...req }, reconnectUrl: (app, ref, scopes) => `https://ks.test/connect?app=${app}&reconnect=${ref}&scopes=${scopes.join("+")}` });

  it("the picked credential lacking a scope is credential_unavailable with the step-up fix; it never falls through to one that has it", () => {
    const r = run({ scopes: ["repo", "workflow"] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual({
      code: "credential_unavailable",
      message: "github/org/narrow (the default github credential at org) was not granted the scope workflow this requirement needs",
      fix: scopesFix("github", "github/org/narrow", ["workflow"]),
      details: { app: "github", credential: "github/org/narrow", id: "cred_narrow", status: "active", missing_scopes: ["workflow"], connect_url: "https://ks.test/connect?app=github&reconnect=github/org/narrow&scopes=workflow" },
    });
    // Every surface words it as a reconnect asking for exactly those scopes.
    expect(remedyOf(r.error)).toEqual({ do: "reconnect_scopes", app: "github", ref: "github/org/narrow", scopes: "workflow" });
    expect(fixForWeb(r.error)?.href).toBe("/connect?app=github&reconnect=github%2Forg%2Fnarrow&scopes=workflow");
    expect(fixForMcp(r.error)).toContain(`scopes ["workflow"]`);
  });

  it("explicit credentials are checked too; a credential that has them all, or no scopes asked, resolves as before", () => {
    const explicit = run({ credential: "wide", scopes: ["workflow"] });
    expect(explicit.ok && explicit.credential.id).toBe("cred_wide");
    const notAsked = run({});
    expect(notAsked.ok && notAsked.credential.id).toBe("cred_narrow");
    const r = run({ credential: "narrow", scopes: ["gist", "workflow"] });
    expect(!r.ok && r.error.details.missing_scopes).toEqual(["gist", "workflow"]);
  });

  it("a needs_reauth credential keeps its own refusal (reconnect), scopes or not", () => {
    const r = run({ scopes: ["workflow"] }, [{ ...narrow, status: "needs_reauth" }]);
    expect(!r.ok && r.error.details.missing_scopes).toBeUndefined();
    expect(!r.ok && r.error.code).toBe("credential_unavailable");
  });
});
