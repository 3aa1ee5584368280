/**
 * The CLI's HTTP client. Every answer is parsed with the API's own zod schemas (lib/schemas), and
 * every error envelope becomes the AppError it describes, so the CLI has one error path.
 */
import { z } from "zod";
import { AppError, ERROR_CODES } from "../lib/errors";
import { failure } from "./errors";
import { MAX_PAGE_LIMIT } from "../lib/paging";

/** lib/errors' DetailValue: shallow JSON values. */
const DetailValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.string()),
  z.array(z.record(z.string(), z.string())),
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
]);

const ErrorEnvelope = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    fix: z.string().optional(),
    // Details we cannot read must not hide the message and fix, which are what people need.
    details: z.record(z.string(), DetailValue).optional().catch(undefined),
  }),
});

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export class Api {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#token = token;
  }

  /** `path` already has its segments encoded (see `seg`). */
  async call<S extends z.ZodType>(method: Method, path: string, schema: S, body?: unknown, headers: Record<string, string> = {}): Promise<z.infer<S>> {
    const url = this.baseUrl + path;
    const init: RequestInit = { method, headers: { accept: "application/json", ...headers } };
    const h = init.headers as Record<string, string>;
    if (this.#token !== undefined) h.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) {
      h["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      // undici wraps the socket error, sometimes in an AggregateError (one per address tried).
      const c = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const cause = c?.code ?? c?.errors?.find((x) => x.code)?.code ?? c?.message ?? "network error";
      throw failure(`Cannot reach the Keystroke API at ${this.baseUrl} (${cause}).`, {
        code: "unreachable",
        fix: "Start it with `npm run dev`, or point the CLI at it: `keystroke target use cloud --url <url>` or KEYSTROKE_API_URL.",
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const envelope = ErrorEnvelope.safeParse(json);
      if (envelope.success) throw AppError.fromBody(envelope.data.error, res.status);
      throw failure(`${method} ${path.split("?")[0]} answered HTTP ${res.status} without an error body.`, { code: "http_error" });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // Name the field, never the value: an answer may hold a token or a secret.
      const where = parsed.error.issues[0]?.path.join(".") || "the body";
      throw failure(`Unexpected answer from ${method} ${path.split("?")[0]}: ${where} does not match the API's schema.`, {
        code: "bad_answer",
        fix: "Is the CLI as new as the server? Rebuild it with `npm install`.",
      });
    }
    return parsed.data;
  }
}

/** One percent-encoded path segment (a reference like `linear/work` is one segment). */
export const seg = (s: string): string => encodeURIComponent(s);

/** `?a=1&b=2` from the defined entries, or "". */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * Every page of a paged list (`limit`, `cursor`, `next_cursor`; README, "Paging"), concatenated:
 * a plain `list` command shows everything, however many pages the API answers in.
 */
export async function allPages<T>(api: Api, path: string, params: Record<string, string | undefined>, key: string, item: z.ZodType<T>): Promise<T[]> {
  const Items = z.object({ [key]: z.array(item) });
  const out: T[] = [];
  for (let cursor: string | undefined; ;) {
    const page = await api.call("GET", `${path}${query({ ...params, limit: String(MAX_PAGE_LIMIT), cursor })}`, Items.extend({ next_cursor: z.string().nullable().optional() }));
    out.push(...((page as Record<string, unknown>)[key] as T[]));
    const next = (page as { next_cursor?: string | null }).next_cursor;
    if (!next) return out;
    cursor = next;
  }
}
