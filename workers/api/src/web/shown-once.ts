import type { Context, Hono } from "hono";
import type { z } from "zod";
import { fromZodError, type ErrorBody } from "../../../../lib/errors";
import type { VaultResult } from "../../../../lib/rpc";
import type { Me } from "../../../../lib/schemas/identity";
import type { ApiEnv } from "../http/vault";
import { act, FORM_EXPIRED, formOf, loadPage, pageValue, statusOf, text, type WebSession } from "./pages";

type Vault = WebSession["vault"];
export type ShownOnceOpts<Created> = { created?: Created; ok?: string | null; error?: ErrorBody | null; name?: string };

/**
 * The routes of a page whose form creates a token shown exactly once (API keys, runtime tokens):
 * GET lists, the create post answers the new token in that one answer (never a redirect, so it is
 * in no URL and gone on reload), revoke redirects back with a banner. One vault call each.
 */
export function mountShownOnce<Page, Created>(
  app: Hono<ApiEnv>,
  // Page and Created are taken from `render`: the vault stub's types only have to fit them.
  spec: {
    path: string;
    body: z.ZodType<{ name: string }>;
    nameFix: string;
    revokedMessage: string;
    load: (vault: Vault, token: string) => Promise<VaultResult<NoInfer<Page> & { viewer: Me }>>;
    create: (vault: Vault, token: string, name: string) => Promise<VaultResult<NoInfer<Page> & { viewer: Me; created: VaultResult<NoInfer<Created>> }>>;
    revoke: (vault: Vault, token: string, id: string) => Promise<VaultResult<unknown>>;
    render: (c: Context<ApiEnv>, s: WebSession, page: Page, opts: ShownOnceOpts<Created>, status?: number) => Response | Promise<Response>;
  },
): void {
  const again = async (c: Context<ApiEnv>, opts: ShownOnceOpts<Created>, status: number) => {
    const loaded = await loadPage(c, spec.load);
    return loaded instanceof Response ? loaded : spec.render(c, loaded.s, loaded.page, opts, status);
  };

  app.get(spec.path, (c) => again(c, { ok: c.req.query("done") === "revoked" ? spec.revokedMessage : null }, 200));

  app.post(spec.path, async (c) => {
    const form = await formOf(c);
    if (!form) return again(c, { error: FORM_EXPIRED }, 403);
    const input = { name: text(form, "name") };
    const body = spec.body.safeParse(input);
    if (!body.success) return again(c, { error: fromZodError(body.error, { input, say: (_f, problem) => ({ message: `The name ${problem}.`, fix: spec.nameFix }) }).toBody() }, 400);
    // The action and the page that shows its answer, in one vault call.
    const loaded = await loadPage(c, (vault, token) => spec.create(vault, token, body.data.name));
    if (loaded instanceof Response) return loaded;
    const r = pageValue(loaded.page.created);
    if (r.error) return spec.render(c, loaded.s, loaded.page, { error: r.error, name: body.data.name }, statusOf(r.error));
    return spec.render(c, loaded.s, loaded.page, { created: r.value });
  });

  app.post(`${spec.path}/:id/revoke`, async (c) => {
    const form = await formOf(c);
    if (!form) return again(c, { error: FORM_EXPIRED }, 403);
    const r = await act(c, (vault, token) => spec.revoke(vault, token, c.req.param("id")));
    if (r instanceof Response) return r;
    if (!r.ok) return again(c, { error: r.error }, statusOf(r.error));
    return c.redirect(`${spec.path}?done=revoked`, 303);
  });
}
