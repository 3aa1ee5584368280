import type { Directory } from "./directory";
import type { OrgVault } from "./org-vault";

/**
 * What the vault and the Directory run with: the bindings and secrets durable-objects/ reads.
 * Owned here so the Durable Objects import no worker; each worker's Env that hosts them (the api
 * worker's) extends it. The import of the two classes is type-only (the namespaces' types), so
 * the cycle with org-vault.ts and directory.ts does not exist at run time.
 */
export interface VaultEnv {
  VAULT: DurableObjectNamespace<OrgVault>;
  DIRECTORY: DurableObjectNamespace<Directory>;
  /** KV: the Slack route cache (`slack-route:<key>` -> org id, docs/storage.md). */
  ROUTES: KVNamespace;
  /** "k2:<base64 32 bytes>,k1:<base64>": the first is active; the rest still open old values. */
  VAULT_KEYS: string;
  /** Signs org ids so a forged one is refused before any Durable Object is touched (README, "Org ids"). Same value on api, oauth and slack-events; never changed. */
  ORG_ID_KEY: string;
  /** `{"github":{"id":"…","secret":"…"},…}`: the platform's OAuth clients per app (secret). */
  OAUTH_CLIENTS?: string;
  /** Slack's Web API; default https://slack.com/api. */
  SLACK_API_URL?: string;
  /** The agent runtime the Slack gateway delivers messages to. */
  AGENT_RUNTIME_URL?: string;
  /** Shared secret sent as `Authorization: Bearer …` to the agent runtime (secret; required to deliver). */
  AGENT_RUNTIME_TOKEN?: string;
  /** Optional cap (ms) on every outbound call's timeout (providers/outbound-fetch.ts). */
  OUTBOUND_TIMEOUT_MS?: string;
  /** "true" only in local dev: enables the dev-only methods and the sandbox. Never set in production. */
  DEV_MODE?: string;
  /** "off": no credential probe leaves the vault (egress-restricted deployments; the api tests). Default on (SPEC section 14). */
  PROBES?: string;
}
