import type { SlackDoor } from "../../../durable-objects/doors/slack";

/** Bindings of the slack-events worker (workers/slack-events/wrangler.toml). */
export interface SlackEnv {
  /** The api worker's SlackDoor (durable-objects/doors/slack.ts): route lookup and the event hand-off, nothing else. */
  VAULT_DOOR: Service<SlackDoor>;
  ROUTES: KVNamespace;
  /** Secret: the Slack app's signing secret (Basic Information -> App Credentials). */
  SLACK_SIGNING_SECRET?: string;
  /** Secret, optional: the previous signing secret while a rotation is under way. */
  SLACK_SIGNING_SECRET_PREVIOUS?: string;
  /** The Slack app id(s) events must carry in `api_app_id`, comma-separated. Unset: any (the vault still checks). */
  SLACK_APP_ID?: string;
}
