/**
 * The post-connect lookups of connection data (SPEC section 13), e.g. Atlassian's accessible
 * resources for the site's cloud id: one GET with the new access token, bounded by the provider
 * deadline. Only the parsed JSON is answered; the body is never logged or put in an error.
 */
import { AppError } from "../lib/errors";
import { outboundFetch, withDeadline } from "./outbound-fetch";

export async function lookupJson(url: string, accessToken: string, timeoutMs: number): Promise<unknown> {
  const res = await outboundFetch(url, { method: "GET", headers: { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "keystroke" } }, timeoutMs, "provider's lookup endpoint");
  if (!res.ok) throw new AppError("upstream_error", `The provider's lookup after sign-in answered HTTP ${res.status}.`, { details: { provider_error: `http_${res.status}` } });
  return withDeadline(res.json().catch(() => null), timeoutMs, "provider's lookup endpoint");
}
