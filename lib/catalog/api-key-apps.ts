/**
 * API-key apps: the services agents most often call with a static key. Field names are what the
 * providers' own SDKs call the option (camelCase), so a resolved credential maps straight onto
 * the client constructor. Non-secret fields (ids, regions, URLs) are shown unmasked.
 */
import { API_KEY_PROBES } from "./probes";
import type { ApiKeyAppInput, FieldSpec } from "./schema";

type FieldInput = Omit<FieldSpec, "optional"> & { optional?: boolean };

const secret = (name: string, label: string): FieldInput => ({ name, label, secret: true });
const plain = (name: string, label: string, optional = false): FieldInput => ({ name, label, secret: false, optional });
const API_KEY = secret("apiKey", "API key");

function app(slug: string, name: string, category: string, description: string, fields: FieldInput[]): ApiKeyAppInput {
  return { slug, name, kind: "api_key", category, description, fields, custom: false, probe: API_KEY_PROBES[slug] };
}

export const API_KEY_APPS: readonly ApiKeyAppInput[] = [
  // AI models
  app("openai", "OpenAI", "ai", "GPT models, embeddings, images and audio from OpenAI.", [
    API_KEY,
    plain("organization", "Organization ID", true),
  ]),
  app("anthropic", "Anthropic", "ai", "Claude models from Anthropic.", [API_KEY]),
  app("gemini", "Google Gemini", "ai", "Gemini models through the Google AI Studio API.", [API_KEY]),
  app("mistral", "Mistral AI", "ai", "Mistral and Codestral models.", [API_KEY]),
  app("cohere", "Cohere", "ai", "Cohere Command models, embeddings and rerank.", [API_KEY]),
  app("groq", "Groq", "ai", "Low-latency inference of open models on Groq.", [API_KEY]),
  app("perplexity", "Perplexity", "ai", "Perplexity Sonar models with web-grounded answers.", [API_KEY]),
  app("replicate", "Replicate", "ai", "Run open-source models hosted on Replicate.", [secret("apiToken", "API token")]),
  app("huggingface", "Hugging Face", "ai", "Hugging Face Hub and Inference Providers.", [secret("accessToken", "Access token")]),
  app("elevenlabs", "ElevenLabs", "ai", "Text to speech and voice cloning.", [API_KEY]),
  app("deepgram", "Deepgram", "ai", "Speech to text and text to speech.", [API_KEY]),
  // Vector databases
  app("pinecone", "Pinecone", "database", "Pinecone vector database.", [API_KEY, plain("environment", "Environment", true)]),
  // Search and scraping
  app("exa", "Exa", "search", "Exa neural web search and contents.", [API_KEY]),
  app("tavily", "Tavily", "search", "Web search built for agents.", [API_KEY]),
  app("serpapi", "SerpApi", "search", "Google and other search engine results as JSON.", [API_KEY]),
  app("firecrawl", "Firecrawl", "search", "Crawl and scrape websites into markdown.", [API_KEY]),
  // Payments
  app("stripe", "Stripe", "payments", "Stripe payments, customers and subscriptions.", [secret("secretKey", "Secret key")]),
  // Email and messaging
  app("sendgrid", "SendGrid", "email", "Transactional email through Twilio SendGrid.", [API_KEY]),
  app("resend", "Resend", "email", "Transactional email for developers.", [API_KEY]),
  app("postmark", "Postmark", "email", "Transactional email through Postmark.", [secret("serverToken", "Server API token")]),
  app("twilio", "Twilio", "sms", "SMS, voice and WhatsApp through Twilio.", [
    plain("accountSid", "Account SID"),
    secret("authToken", "Auth token"),
  ]),
  // Data and infrastructure
  app("airtable", "Airtable", "database", "Airtable bases, tables and records.", [
    secret("personalAccessToken", "Personal access token"),
  ]),
  app("supabase", "Supabase", "database", "Supabase Postgres, storage and auth (server-side key).", [
    plain("url", "Project URL"),
    secret("serviceRoleKey", "Service role key"),
  ]),
  app("datadog", "Datadog", "observability", "Datadog metrics, logs and monitors.", [
    API_KEY,
    secret("appKey", "Application key"),
    // US1 by default; EU and other regions live on other hosts (datadoghq.eu, us3.datadoghq.com, ...).
    plain("site", "Site", true),
  ]),
  // Freshdesk's API lives on the account's own subdomain: kept as connection data too (SPEC section 13).
  {
    ...app("freshdesk", "Freshdesk", "support", "Tickets and contacts in a Freshdesk helpdesk.", [API_KEY, plain("subdomain", "Subdomain (the part before .freshdesk.com)")]),
    connection: [{ key: "subdomain", from: "field", field: "subdomain" }],
  },
  app("cloudflare", "Cloudflare", "infrastructure", "Cloudflare API: Workers, DNS, R2 and more.", [
    secret("apiToken", "API token"),
    plain("accountId", "Account ID", true),
  ]),
];
