// Test-only main for the slack project: the real slack-events worker plus the Durable Object
// classes it normally reaches through script_name = "keystroke-api" (re-pointed in vitest.config.ts).
export { default } from "../../workers/slack-events/src/index";
export { OrgVault } from "../../durable-objects/org-vault";
export { Directory } from "../../durable-objects/directory";
// Its VAULT_DOOR binding points back at this worker's SlackDoor (vitest.config.ts).
export { SlackDoor } from "../../durable-objects/doors/slack";
