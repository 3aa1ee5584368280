import type { ProviderConfig } from "../lib/oauth";
import { outboundFetch } from "./outbound-fetch";

/**
 * An OAuth credential's probe (SPEC section 14, `check`): the provider's userinfo endpoint with
 * the access token, as connect reads the account. Answers the HTTP status only: the body is the
 * account, which the check has no use for, and nothing of it is kept. Timeouts and unreachable
 * providers throw the outbound AppError.
 */
export async function userinfoStatus(cfg: ProviderConfig, accessToken: string, timeoutMs: number): Promise<number> {
  if (!cfg.userinfoUrl) throw new Error("no userinfo endpoint");
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "keystroke" };
  const init: RequestInit = cfg.userinfoQuery
    ? { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ query: cfg.userinfoQuery }), redirect: "manual" }
    : { method: "GET", headers, redirect: "manual" };
  const res = await outboundFetch(cfg.userinfoUrl, init, timeoutMs, "provider's userinfo endpoint");
  await res.body?.cancel();
  return res.status;
}
