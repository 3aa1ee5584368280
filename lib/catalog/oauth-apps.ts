/**
 * OAuth apps, part 1: developer tools, productivity, chat, plus the Slack bot install and the
 * generic OAuth2 app. Endpoints, PKCE and refresh facts are copied from arctic 3.7.0's
 * dist/providers/*.js (arctic itself is only imported under providers/, which speaks to each
 * app through the class named by `arcticProvider`). userinfo and revoke
 * URLs arctic does not know are the providers' documented ones and are marked as such.
 */
import type { OAuthAppInput } from "./schema";

/** Jira and Confluence share Atlassian's one OAuth 2.0 (3LO) server; only their scopes differ. */
function atlassian(scopes: string[], optionalScopes: string[]) {
  return {
    authorizeUrl: "https://auth.atlassian.com/authorize",
    tokenUrl: "https://auth.atlassian.com/oauth/token",
    userinfoUrl: "https://api.atlassian.com/me",
    scopes,
    optionalScopes,
    pkce: false,
    refresh: true,
    identity: { source: "userinfo" as const, idPath: "account_id", emailPath: "email", namePath: "name" },
    // API calls go to api.atlassian.com/ex/<product>/<cloud id>: the first site the grant reaches.
    connection: [{ key: "cloud_id" as const, from: "lookup" as const, url: "https://api.atlassian.com/oauth/token/accessible-resources", path: "0.id" }],
    // arctic's class sets audience=api.atlassian.com and prompt=consent on every authorize URL.
    arcticProvider: "Atlassian",
  };
}

export const OAUTH_APPS_CORE: readonly OAuthAppInput[] = [
  {
    slug: "github",
    name: "GitHub",
    kind: "oauth",
    category: "developer tools",
    description: "Repositories, issues and pull requests on GitHub.",
    provider: {
      authorizeUrl: "https://github.com/login/oauth/authorize",
      tokenUrl: "https://github.com/login/oauth/access_token",
      userinfoUrl: "https://api.github.com/user",
      scopes: ["repo", "read:user", "user:email"],
      optionalScopes: ["workflow", "read:org", "gist", "admin:repo_hook"],
      pkce: false,
      // Only GitHub Apps with expiring user tokens get one; arctic exposes refreshAccessToken.
      refresh: true,
      identity: { source: "userinfo", idPath: "id", emailPath: "email", namePath: "login" },
      arcticProvider: "GitHub",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "gitlab",
    name: "GitLab",
    kind: "oauth",
    category: "developer tools",
    description: "Projects, merge requests and CI on GitLab.com; a self-managed GitLab through the org's own OAuth client and its endpoints.",
    provider: {
      // arctic's GitLab takes a base URL; these are gitlab.com's.
      authorizeUrl: "https://gitlab.com/oauth/authorize",
      tokenUrl: "https://gitlab.com/oauth/token",
      revokeUrl: "https://gitlab.com/oauth/revoke",
      userinfoUrl: "https://gitlab.com/api/v4/user",
      scopes: ["api", "read_user"],
      optionalScopes: ["read_repository", "write_repository", "read_registry"],
      pkce: false,
      refresh: true,
      identity: { source: "userinfo", idPath: "id", emailPath: "email", namePath: "username" },
      arcticProvider: "GitLab",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "bitbucket",
    name: "Bitbucket",
    kind: "oauth",
    category: "developer tools",
    description: "Repositories and pull requests on Bitbucket Cloud.",
    provider: {
      authorizeUrl: "https://bitbucket.org/site/oauth2/authorize",
      tokenUrl: "https://bitbucket.org/site/oauth2/access_token",
      userinfoUrl: "https://api.bitbucket.org/2.0/user",
      // Bitbucket scopes are set on the OAuth consumer, not in the request (arctic sends none).
      scopes: [],
      pkce: false,
      refresh: true,
      identity: { source: "userinfo", idPath: "uuid", namePath: "username" },
      arcticProvider: "Bitbucket",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "linear",
    name: "Linear",
    kind: "oauth",
    category: "project management",
    description: "Issues, projects and cycles in Linear.",
    provider: {
      authorizeUrl: "https://linear.app/oauth/authorize",
      tokenUrl: "https://api.linear.app/oauth/token",
      revokeUrl: "https://api.linear.app/oauth/revoke", // Linear's documented endpoint, not in arctic
      // Linear has no REST userinfo; the viewer comes from its GraphQL API.
      userinfoUrl: "https://api.linear.app/graphql",
      userinfoQuery: "{ viewer { id email name } }",
      scopes: ["read", "write"],
      // arctic's class joins scopes with spaces (Linear accepts both).
      pkce: false,
      refresh: false, // arctic 3.7.0's Linear has no refreshAccessToken
      identity: { source: "userinfo", idPath: "data.viewer.id", emailPath: "data.viewer.email", namePath: "data.viewer.name" },
      arcticProvider: "Linear",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "jira",
    name: "Jira",
    kind: "oauth",
    category: "project management",
    description: "Issues and projects in Atlassian Jira Cloud.",
    // offline_access is what makes Atlassian issue a refresh token.
    provider: atlassian(["read:me", "read:jira-work", "write:jira-work", "read:jira-user", "offline_access"], ["manage:jira-project", "manage:jira-configuration", "manage:jira-webhook"]),
    channel: false,
    custom: false,
  },
  {
    slug: "confluence",
    name: "Confluence",
    kind: "oauth",
    category: "knowledge base",
    description: "Pages and spaces in Atlassian Confluence Cloud.",
    provider: atlassian(["read:me", "read:confluence-content.all", "write:confluence-content", "search:confluence", "offline_access"], ["read:confluence-space.summary", "write:confluence-space", "write:confluence-file"]),
    channel: false,
    custom: false,
  },
  {
    slug: "notion",
    name: "Notion",
    kind: "oauth",
    category: "knowledge base",
    description: "Pages and databases in a Notion workspace.",
    provider: {
      authorizeUrl: "https://api.notion.com/v1/oauth/authorize",
      tokenUrl: "https://api.notion.com/v1/oauth/token",
      // Notion grants capabilities per integration, so there are no scopes to request.
      scopes: [],
      pkce: false,
      refresh: false, // arctic 3.7.0's Notion is code exchange only
      // The token response names the authorizing user (owner.user) and workspace.
      identity: {
        source: "token_response",
        idPath: "owner.user.id",
        emailPath: "owner.user.person.email",
        namePath: "owner.user.name",
      },
      // arctic's class sets owner=user itself.
      arcticProvider: "Notion",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "google",
    name: "Google",
    kind: "oauth",
    category: "productivity",
    description: "Google account: Gmail, Drive, Calendar and Sheets, by scope.",
    provider: {
      authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: "https://oauth2.googleapis.com/token",
      revokeUrl: "https://oauth2.googleapis.com/revoke",
      userinfoUrl: "https://openidconnect.googleapis.com/v1/userinfo",
      scopes: ["openid", "email", "profile"],
      optionalScopes: ["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/calendar", "https://www.googleapis.com/auth/drive.readonly", "https://www.googleapis.com/auth/spreadsheets"],
      pkce: true, // required by arctic's Google
      refresh: true,
      identity: { source: "userinfo", idPath: "sub", emailPath: "email", namePath: "name" },
      // Without these Google issues no refresh token (or only on the very first consent).
      extraAuthorizeParams: { access_type: "offline", prompt: "consent" },
      arcticProvider: "Google",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "microsoft",
    name: "Microsoft",
    kind: "oauth",
    category: "productivity",
    description: "Microsoft 365 and Entra ID: Outlook, OneDrive, Teams through Microsoft Graph.",
    provider: {
      // arctic's MicrosoftEntraId with the multi-tenant "common" tenant.
      authorizeUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
      tokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
      userinfoUrl: "https://graph.microsoft.com/v1.0/me",
      scopes: ["openid", "profile", "email", "offline_access", "User.Read"],
      optionalScopes: ["Mail.Read", "Mail.Send", "Calendars.ReadWrite", "Files.ReadWrite.All", "Chat.ReadWrite"],
      pkce: true,
      refresh: true,
      identity: { source: "userinfo", idPath: "id", emailPath: "userPrincipalName", namePath: "displayName" },
      // The signed-in account's directory (the id_token's `tid`): the tenant to call for org data.
      connection: [{ key: "tenant", from: "id_token", path: "tid" }],
      arcticProvider: "MicrosoftEntraId",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "dropbox",
    name: "Dropbox",
    kind: "oauth",
    category: "storage",
    description: "Files and folders in Dropbox.",
    provider: {
      authorizeUrl: "https://www.dropbox.com/oauth2/authorize",
      tokenUrl: "https://api.dropboxapi.com/oauth2/token",
      revokeUrl: "https://api.dropboxapi.com/2/auth/token/revoke",
      scopes: ["account_info.read", "files.metadata.read", "files.content.read"],
      pkce: false,
      refresh: true,
      // Dropbox's account endpoint is a POST RPC; the token response already carries the account id.
      identity: { source: "token_response", idPath: "account_id" },
      // Dropbox only returns a refresh token for offline access.
      extraAuthorizeParams: { token_access_type: "offline" },
      arcticProvider: "Dropbox",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "box",
    name: "Box",
    kind: "oauth",
    category: "storage",
    description: "Files and folders in Box.",
    provider: {
      authorizeUrl: "https://account.box.com/api/oauth2/authorize",
      tokenUrl: "https://api.box.com/oauth2/token",
      revokeUrl: "https://api.box.com/oauth2/revoke",
      userinfoUrl: "https://api.box.com/2.0/users/me",
      scopes: ["root_readwrite"],
      pkce: false,
      refresh: true,
      identity: { source: "userinfo", idPath: "id", emailPath: "login", namePath: "name" },
      arcticProvider: "Box",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "figma",
    name: "Figma",
    kind: "oauth",
    category: "design",
    description: "Files, comments and components in Figma.",
    provider: {
      authorizeUrl: "https://www.figma.com/oauth",
      tokenUrl: "https://api.figma.com/v1/oauth/token",
      // Figma refreshes at its own endpoint (arctic's refreshEndpoint).
      refreshUrl: "https://api.figma.com/v1/oauth/refresh",
      userinfoUrl: "https://api.figma.com/v1/me",
      scopes: ["current_user:read", "file_content:read", "file_comments:write"],
      pkce: false,
      refresh: true,
      identity: { source: "userinfo", idPath: "id", emailPath: "email", namePath: "handle" },
      arcticProvider: "Figma",
    },
    channel: false,
    custom: false,
  },
  {
    slug: "slack",
    name: "Slack",
    kind: "oauth",
    category: "communication",
    description: "Install the Keystroke bot in a Slack workspace so agents can read and answer conversations.",
    provider: {
      // A bot install (oauth/v2), which arctic's Slack (Sign in with Slack only) cannot do.
      authorizeUrl: "https://slack.com/oauth/v2/authorize",
      tokenUrl: "https://slack.com/api/oauth.v2.access",
      // Slack Web API method, not RFC 7009: answers 200 {ok, revoked}.
      revokeUrl: "https://slack.com/api/auth.revoke",
      scopes: [
        "app_mentions:read",
        "channels:history",
        "channels:read",
        "groups:history",
        "groups:read",
        "im:history",
        "im:read",
        "mpim:history",
        "chat:write",
      ],
      scopeSeparator: ",",
      pkce: false,
      // Slack only issues refresh tokens when token rotation is enabled on the Slack app.
      refresh: false,
      // The installed workspace is the account.
      identity: { source: "token_response", idPath: "team.id", namePath: "team.name" },
      arcticProvider: "OAuth2Client",
    },
    channel: true,
    custom: false,
  },
  {
    slug: "oauth2",
    name: "Generic OAuth2",
    kind: "oauth",
    category: "custom",
    description: "Any OAuth 2.0 provider with authorization code flow; its endpoints come from the org's own OAuth client.",
    provider: {
      // Placeholders, meant to be overridden by configuration (withProviderOverrides). The
      // .invalid TLD (RFC 2606) never resolves, so an unconfigured app fails closed.
      authorizeUrl: "https://oauth2.invalid/authorize",
      tokenUrl: "https://oauth2.invalid/token",
      revokeUrl: "https://oauth2.invalid/revoke",
      userinfoUrl: "https://oauth2.invalid/userinfo",
      scopes: [],
      pkce: true,
      refresh: true,
      identity: { source: "userinfo", idPath: "sub", emailPath: "email", namePath: "name" },
      arcticProvider: "OAuth2Client",
    },
    channel: false,
    custom: false,
  },
];
