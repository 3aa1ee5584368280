import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ERROR_CODES } from "../../../../lib/errors";
import { validationError } from "./errors";
import type { ApiEnv } from "./vault";

export const ErrorEnvelope = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    fix: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
}).openapi("ErrorEnvelope", { description: "Every error answer (SPEC section 10): a code from a closed set, a message, often a fix and the field at fault" });

const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ErrorEnvelope } } });

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const ERRORS = {
  400: errorResponse("invalid_request: the field named in details.field"),
  401: errorResponse("unauthorized"),
  403: errorResponse("forbidden"),
  404: errorResponse("not_found"),
  409: errorResponse("conflict"),
} as const;

export const json = <T extends z.ZodType>(schema: T, description = "OK") => ({ description, content: { "application/json": { schema } } });
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

export const BEARER = [{ bearer: [] }];

/** Every router validates with the same hook, so bad input always becomes the error envelope. */
export function router() {
  return new OpenAPIHono<ApiEnv>({
    // @hono/zod-validator hands the hook what it parsed as `data`, on failure too (its types omit it).
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target, (result as { data?: unknown }).data);
    },
  });
}
