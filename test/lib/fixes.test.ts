import { describe, expect, it } from "vitest";
import { cliFix, fixForMcp, fixForWeb, mcpFix, remedyOf, webFix, type Remedy } from "../../lib/fixes";
import { NOT_FOUND_FIX } from "../../lib/refs";
import { AMBIGUOUS_FIX, missingFix, reconnectFix } from "../../lib/resolve";

/** lib/fixes: one next step, worded per surface; only the CLI's wording names CLI commands. */
const ALL: Remedy[] = [
  { do: "connect", app: "exa" },
  { do: "reconnect", app: "linear", ref: "linear/org/work" },
  { do: "reconnect_scopes", app: "github", ref: "github/org/work", scopes: "workflow gist" },
  { do: "connect_or_assign", app: "exa" },
  { do: "set_default_or_assign" },
  { do: "reassign" },
  { do: "list_credentials" },
  { do: "list_apps" },
  { do: "new_connect_session" },
  { do: "sign_in" },
  { do: "list_assignments" },
  { do: "list_api_keys" },
];

describe("fixes per surface", () => {
  it("words every remedy for the web (with a page link) and MCP without CLI syntax; the CLI keeps its commands", () => {
    for (const r of ALL) {
      expect(cliFix(r), r.do).toMatch(/keystroke |Sign in|Set a default|Assign/);
      const web = webFix(r);
      expect(web.text, r.do).not.toContain("keystroke ");
      expect(web.href, r.do).toMatch(/^\//);
      expect(mcpFix(r), r.do).not.toContain("keystroke ");
      expect(remedyOf({ fix: cliFix(r), details: { remedy: r } }), r.do).toEqual(r);
    }
  });

  it("recognises the resolver's fixes by their exact text; anything else passes through", () => {
    expect(fixForWeb({ fix: missingFix("exa", "http://x/connect?app=exa"), details: { app: "exa", connect_url: "http://x/connect?app=exa" } })).toEqual(webFix({ do: "connect", app: "exa" }));
    expect(fixForMcp({ fix: reconnectFix("linear", "linear/org/w"), details: { app: "linear", credential: "linear/org/w" } })).toContain("reconnect linear/org/w");
    expect(remedyOf({ fix: AMBIGUOUS_FIX })).toEqual({ do: "set_default_or_assign" });
    expect(remedyOf({ fix: NOT_FOUND_FIX })).toEqual({ do: "list_credentials" });
    expect(fixForWeb({ fix: "Try again later." })).toEqual({ text: "Try again later." });
    expect(remedyOf({ fix: "x", details: { remedy: { do: "format_disk" } } })).toBeNull();
  });
});
