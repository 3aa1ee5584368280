import type { Child } from "hono/jsx";

/**
 * The one time a secret (runtime token, API key, invitation link, webhook signing secret) is on a
 * page: what was made and that it is shown once, then the value to copy (`valueId` is what the
 * browser tests and a copy button read), then any usage hint.
 */
export function SecretCard(props: { testid: string; valueId: string; value: string; children: Child; lead?: Child; after?: Child }) {
  return (
    <div class="card" role="status" data-testid={props.testid}>
      <p>{props.children}</p>
      {props.lead ?? null}
      <code id={props.valueId} class="secret-once">{props.value}</code>
      {props.after ?? null}
    </div>
  );
}
