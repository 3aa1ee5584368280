import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { AppError, fromZodError } from "../../../../lib/errors";

/** The one place an error becomes HTTP: the SPEC section 10 envelope, never a stack trace. */
export function renderError(err: unknown, c: Context): Response {
  const appError = toAppError(err);
  if (appError.code === "internal") console.error("internal error", err instanceof Error ? err.name : typeof err, c.req.method, c.req.routePath);
  // Never cached (issue 11, item 10): an error answers one caller at one moment.
  return c.json({ error: appError.toBody() }, appError.httpStatus as 400, { "cache-control": "no-store" });
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 415) return new AppError("invalid_request", "The body must be JSON.", { fix: "Send `content-type: application/json`.", details: { field: "body" }, status: 415 });
    if (err.status === 413) return new AppError("invalid_request", "The body is too large.", { details: { field: "body" }, status: 413 });
    if (err.status === 401) return new AppError("unauthorized", err.message || "Unauthorized.");
    if (err.status < 500) return new AppError("invalid_request", err.message || "The request is malformed.", { details: { field: "body" } });
  }
  return new AppError("internal", "Something went wrong on our side.");
}

const TARGET_PREFIX: Record<string, string> = { json: "", query: "query.", param: "path.", header: "header.", form: "" };

/**
 * zod failures through the one mapper (lib/errors fromZodError), naming the first offending field;
 * the raw validator dump never reaches the wire. `input` is what the validator parsed.
 */
export function validationError(error: ZodError, target: string, input: unknown): AppError {
  return fromZodError(error, { input, prefix: TARGET_PREFIX[target] ?? "" });
}
