import type { Child } from "hono/jsx";
import { Csrf } from "../../../shared/layout";

/**
 * A one-button action on a listed row (revoke, remove, send test...): a POST form with the CSRF
 * field and a submit button. `label` is the button's aria-label and must name the row, since
 * every row shows the same button text. Inline (in a table cell) unless `inline` is false, for a
 * form laid out by its container (apps' `.actions`).
 */
export function PostButton(props: { action: string; csrf: string; buttonClass: string; label: string; children: Child; inline?: boolean }) {
  return (
    <form method="post" action={props.action} class={props.inline === false ? undefined : "inline"}>
      <Csrf value={props.csrf} />
      <button class={props.buttonClass} type="submit" aria-label={props.label}>{props.children}</button>
    </form>
  );
}
