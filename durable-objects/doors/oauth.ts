import { WorkerEntrypoint } from "cloudflare:workers";
import type { VaultEnv } from "../env";
import { throughVault, type Args } from "./door";

/**
 * The oauth worker's door (its service binding VAULT_DOOR, entrypoint "OAuthDoor"): the connect
 * flow's steps and the page header's "who is signed in", nothing else. Each step takes the
 * member's session token, which the vault checks; the callback also the state (single use, bound
 * to the session and the member). No step answers a client secret or a PKCE verifier. Member
 * methods (credentials, keys, assignments) and dev methods are not reachable from here.
 */
export class OAuthDoor extends WorkerEntrypoint<VaultEnv> {
  describeMe(orgId: string, ...a: Args<"describeMe">) {
    return throughVault<"describeMe">(this.env, orgId, (v) => v.describeMe(...a));
  }
  /** The connect form again, with who is signed in, when /oauth/start refuses the choice (one call). */
  loadConnectPage(orgId: string, ...a: Args<"loadConnectPage">) {
    return throughVault<"loadConnectPage">(this.env, orgId, (v) => v.loadConnectPage(...a));
  }
  beginConnect(orgId: string, ...a: Args<"beginConnect">) {
    return throughVault<"beginConnect">(this.env, orgId, (v) => v.beginConnect(...a));
  }
  finishConnect(orgId: string, ...a: Args<"finishConnect">) {
    return throughVault<"finishConnect">(this.env, orgId, (v) => v.finishConnect(...a));
  }
}
