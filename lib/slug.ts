/**
 * Machine names: credential slugs, project slugs, app slugs, agent and workflow slugs. The one slug
 * rule: every other check (refs, the catalog, scope filters, form values, the zod `Slug` in
 * lib/schemas/common.ts) is built from this one. Its own module, with no zod, so code that only
 * matches slugs (lib/refs.ts, the small workers) does not bundle the schemas.
 */
export const SLUG_SOURCE = "[a-z0-9][a-z0-9_-]{0,62}";
export const SLUG_PATTERN = new RegExp(`^${SLUG_SOURCE}$`);
