/**
 * The one error class of the product. A closed set of codes (SPEC section 10), mapped to HTTP
 * in exactly one place (`httpStatus`). Messages are written for people and never carry a secret.
 */
export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "missing_credentials",
  "ambiguous_credentials",
  "credential_unavailable",
  "rate_limited",
  "upstream_error",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  missing_credentials: 404,
  ambiguous_credentials: 409,
  credential_unavailable: 409,
  rate_limited: 429,
  upstream_error: 502,
  internal: 500,
};

/**
 * Error details are shallow, JSON-safe values (field names, ids, candidate lists). Spelled out,
 * not `unknown`, so errors can cross Workers RPC with their type intact.
 */
export type DetailValue =
  | string
  | number
  | boolean
  | null
  | readonly string[]
  | readonly { readonly [k: string]: string }[]
  | { readonly [k: string]: string | number | boolean | null };
export type ErrorDetails = Record<string, DetailValue>;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  fix?: string;
  details?: ErrorDetails;
}

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;
  readonly fix?: string;
  readonly details?: ErrorDetails;
  /** Overrides the code's default status where HTTP has a more precise one (413 for a body too large). */
  readonly status?: number;

  constructor(code: ErrorCode, message: string, opts: { fix?: string; details?: ErrorDetails; status?: number } = {}) {
    super(message);
    this.code = code;
    this.fix = opts.fix;
    this.details = opts.details;
    this.status = opts.status;
  }

  get httpStatus(): number {
    return this.status ?? HTTP_STATUS[this.code];
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.fix !== undefined) body.fix = this.fix;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }

  static fromBody(body: ErrorBody, status?: number): AppError {
    return new AppError(body.code, body.message, { fix: body.fix, details: body.details, status });
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** An invalid_request that names the offending field, as every bad-input answer must. */
export function invalidField(field: string, message: string, fix?: string): AppError {
  return new AppError("invalid_request", message, { fix, details: { field } });
}

/** What the mapper reads of a zod 4 issue; structural, so any zod instance's errors fit (the API's comes through @hono/zod-openapi). */
interface ZodIssueLike {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
}

/** `targets[1].project`: the API's way of naming a field inside a body. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** How a form words a bad field in its page's language; the code and details.field stay the mapper's. */
export type SayInvalid = (field: string, problem: string) => { message: string; fix?: string };

/**
 * The one zod -> AppError mapper (API validation hook, vault, web forms, the CLI's local store):
 * an invalid_request naming the first offending field in details.field, never the value. `input`
 * is what was parsed (a field missing from it reads "is required": zod's own text is never
 * inspected), `prefix` goes before the field (`query.`), `fallback` names a whole-input failure,
 * and `say` lets a web form word the message (`problem` is zod's message for the issue).
 */
export function fromZodError(
  error: { readonly issues: readonly ZodIssueLike[] },
  opts: { input?: unknown; prefix?: string; fallback?: string; say?: SayInvalid } = {},
): AppError {
  const prefix = opts.prefix ?? "";
  const issue = error.issues[0];
  const path = issue?.path.length ? fieldPath(issue.path) : (opts.fallback ?? "body");
  if (issue?.code === "unrecognized_keys") {
    const keys = issue.keys ?? [];
    // Nested unknown keys keep their parent's path: `targets[1].project`, not `project`.
    const key = keys[0] === undefined ? path : issue.path.length ? `${path}.${keys[0]}` : keys[0];
    return invalidField(prefix + key, `Unknown field \`${keys.join("`, `")}\`.`);
  }
  const field = prefix + path;
  const missing = issue?.code === "invalid_type" && "input" in opts && valueAt(opts.input, issue.path) === undefined;
  const problem = missing ? "is required" : (issue?.message ?? "is invalid");
  if (opts.say) {
    const { message, fix } = opts.say(field, problem);
    return invalidField(field, message, fix);
  }
  return invalidField(field, `\`${field}\` ${problem.charAt(0).toLowerCase()}${problem.slice(1)}`);
}
