import type { Directory } from "../../../durable-objects/directory";
import type { OrgVault } from "../../../durable-objects/org-vault";

/** Bindings of the slack-events worker (workers/slack-events/wrangler.toml). */
export interface SlackEnv {
  VAULT: DurableObjectNamespace<OrgVault>;
  DIRECTORY: DurableObjectNamespace<Directory>;
  ROUTES: KVNamespace;
  /** Secret: signs org ids (README, "Org ids"); the same value as the api worker's. */
  ORG_ID_KEY: string;
  /** Secret: the Slack app's signing secret (Basic Information -> App Credentials). */
  SLACK_SIGNING_SECRET?: string;
  /** Secret, optional: the previous signing secret while a rotation is under way. */
  SLACK_SIGNING_SECRET_PREVIOUS?: string;
  /** The Slack app id(s) events must carry in `api_app_id`, comma-separated. Unset: any (the vault still checks). */
  SLACK_APP_ID?: string;
}
