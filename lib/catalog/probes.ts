/**
 * The probes of the API-key apps (SPEC section 14): per app, the cheapest authenticated read its
 * API has (a list, a whoami, a balance), never one that costs credits or changes anything. In
 * dev every probe goes to the local fake instead (durable-objects/vault/outbound.ts).
 */
import type { ProbeInput } from "./schema";

const bearer = (field: string) => ({ authorization: `Bearer {${field}}` });

export const API_KEY_PROBES: Readonly<Record<string, ProbeInput>> = {
  openai: { url: "https://api.openai.com/v1/models", headers: bearer("apiKey") },
  anthropic: { url: "https://api.anthropic.com/v1/models?limit=1", headers: { "x-api-key": "{apiKey}", "anthropic-version": "2023-06-01" } },
  gemini: { url: "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1", headers: { "x-goog-api-key": "{apiKey}" } },
  mistral: { url: "https://api.mistral.ai/v1/models", headers: bearer("apiKey") },
  // Answers 200 `{"valid": false}` for a key it does not know.
  cohere: { method: "POST", url: "https://api.cohere.com/v1/check-api-key", headers: bearer("apiKey"), okWhen: { path: "valid", equals: true } },
  groq: { url: "https://api.groq.com/openai/v1/models", headers: bearer("apiKey") },
  perplexity: { url: "https://api.perplexity.ai/async/chat/completions", headers: bearer("apiKey") },
  replicate: { url: "https://api.replicate.com/v1/account", headers: bearer("apiToken") },
  huggingface: { url: "https://huggingface.co/api/whoami-v2", headers: bearer("accessToken") },
  elevenlabs: { url: "https://api.elevenlabs.io/v1/user", headers: { "xi-api-key": "{apiKey}" } },
  deepgram: { url: "https://api.deepgram.com/v1/projects", headers: { authorization: "Token {apiKey}" } },
  pinecone: { url: "https://api.pinecone.io/indexes", headers: { "api-key": "{apiKey}", "x-pinecone-api-version": "2025-01" } },
  exa: { url: "https://api.exa.ai/websets/v0/websets?limit=1", headers: { "x-api-key": "{apiKey}" } },
  tavily: { url: "https://api.tavily.com/usage", headers: bearer("apiKey") },
  // The account endpoint is free; an unknown key can come back as 200 with `{"error": "..."}`.
  serpapi: { url: "https://serpapi.com/account.json", headers: { authorization: "Bearer {apiKey}" }, refusedAt: "error" },
  firecrawl: { url: "https://api.firecrawl.dev/v1/team/credit-usage", headers: bearer("apiKey") },
  stripe: { url: "https://api.stripe.com/v1/balance", headers: bearer("secretKey") },
  sendgrid: { url: "https://api.sendgrid.com/v3/scopes", headers: bearer("apiKey") },
  resend: { url: "https://api.resend.com/domains", headers: bearer("apiKey") },
  postmark: { url: "https://api.postmarkapp.com/server", headers: { accept: "application/json", "x-postmark-server-token": "{serverToken}" } },
  twilio: { url: "https://api.twilio.com/2010-04-01/Accounts/{accountSid}.json", basic: { user: "{accountSid}", password: "{authToken}" } },
  airtable: { url: "https://api.airtable.com/v0/meta/whoami", headers: bearer("personalAccessToken") },
  // The project's own host: probed only when it is a supabase.co project URL.
  supabase: { url: "{url}/rest/v1/", headers: { apikey: "{serviceRoleKey}", authorization: "Bearer {serviceRoleKey}" }, host: "^[a-z0-9-]+\\.supabase\\.co$" },
  // Answers 200 `{"valid": false}` for an unknown key; the region is the `site` field.
  datadog: {
    url: "https://api.{site|datadoghq.com}/api/v1/validate",
    headers: { "dd-api-key": "{apiKey}" },
    host: "^api\\.(datadoghq\\.com|datadoghq\\.eu|us3\\.datadoghq\\.com|us5\\.datadoghq\\.com|ap1\\.datadoghq\\.com|ddog-gov\\.com)$",
    okWhen: { path: "valid", equals: true },
  },
  // The subdomain field is one DNS label (checked at set), so the host is always <label>.freshdesk.com.
  freshdesk: { url: "https://{subdomain}.freshdesk.com/api/v2/agents/me", basic: { user: "{apiKey}", password: "X" }, host: "^[a-z0-9-]+\\.freshdesk\\.com$" },
  // Answers `{"success": false, ...}` when the token is not usable.
  cloudflare: { url: "https://api.cloudflare.com/client/v4/user/tokens/verify", headers: bearer("apiToken"), okWhen: { path: "success", equals: true } },
};
