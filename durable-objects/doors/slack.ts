import { WorkerEntrypoint } from "cloudflare:workers";
import type { VaultEnv } from "../env";
import type { RouteKey } from "../../lib/schemas/slack";
import { throughVault } from "./door";

/**
 * The slack-events worker's door (service binding VAULT_DOOR, entrypoint "SlackDoor"): which org
 * an installation routes to, and the hand-off of one verified event. Tokenless, so each call is
 * only as strong as what it carries: the worker verified Slack's signature and found the route,
 * and the vault accepts an event only for a route of an installation it holds itself. No member,
 * dev or connect method is reachable from here.
 */
export class SlackDoor extends WorkerEntrypoint<VaultEnv> {
  /** The Directory (the authority behind the KV cache): the org of a Slack route, or null. */
  findOrgForRoute(route: RouteKey): Promise<string | null> {
    return this.env.DIRECTORY.getByName("global").slackRoute(route);
  }
  receiveSlackEvent(orgId: string, handoff: unknown) {
    return throughVault<"receiveSlackEvent">(this.env, orgId, (v) => v.receiveSlackEvent(handoff));
  }
}
