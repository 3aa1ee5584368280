import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { AppError, httpStatusOf, type ErrorBody } from "../../lib/errors";
import { ErrorBanner, Page, type PageProps } from "./layout";

/**
 * The one error page of every browser-facing worker (api pages, oauth, the dev gateway): the
 * product's layout, the reason, the fix worded for the web (lib/fixes.ts through ErrorBanner) and
 * a way back. Never a stack trace, never JSON to a browser.
 */

/** The wire body of anything thrown: an AppError says what it is; anything else is `internal`. */
export function errorBodyOf(e: unknown, message = "Something went wrong."): ErrorBody {
  return e instanceof AppError ? e.toBody() : { code: "internal", message };
}

/**
 * The status of an error page: the code's own unless the caller names a more precise one. A
 * refusal (a 4xx code) is never answered as a server failure, whatever the caller passes.
 */
export function pageStatus(error: ErrorBody, status?: number): number {
  const own = httpStatusOf(error.code);
  if (status === undefined) return own;
  return own < 500 && status >= 500 ? own : status;
}

export interface ErrorPageProps {
  error: ErrorBody;
  /** The page's h1; default from the code ("Not found" / "Something went wrong"). */
  heading?: string;
  title?: string;
  nav?: PageProps["nav"];
  /** The ways back; default "Back to Apps". */
  actions?: Child;
}

export function ErrorPage({ error, heading, title, nav, actions }: ErrorPageProps) {
  const notFound = error.code === "not_found";
  return (
    <Page title={title ?? (notFound ? "Not found" : "Error")} nav={nav}>
      <h1>{heading ?? (notFound ? "Not found" : "Something went wrong")}</h1>
      <ErrorBanner error={error} />
      <p class="actions">{actions ?? <a class="button" href="/apps">Back to Apps</a>}</p>
    </Page>
  );
}

/** Answers the error page; `status` as in pageStatus. */
export function errorPage(c: Context, error: ErrorBody, opts: Omit<ErrorPageProps, "error"> & { status?: number } = {}): Response | Promise<Response> {
  const { status, ...props } = opts;
  return c.html(<ErrorPage error={error} {...props} />, pageStatus(error, status) as 400);
}

/** Whether the client is a browser asking for a page, not a program asking for JSON. */
export const wantsHtml = (c: Context): boolean => (c.req.header("accept") ?? "").includes("text/html");
