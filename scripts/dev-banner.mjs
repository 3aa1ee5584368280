// The banner `npm run dev` prints once the stack is seeded (scripts/dev.mjs). Separate so a test can
// check what it tells people without starting a stack.

/**
 * @param {{ base: string, stateDir: string, seed: { org: { slug: string, id: string }, users: { email: string, role: string, token: string }[], runtime_token: string } }} o
 * @returns {string}
 */
export function devBanner({ base, stateDir, seed }) {
  const owner = seed.users.find((u) => u.role === "owner");
  return `
  Keystroke is running on ${base}

  Web app        ${base}/
  API            ${base}/v1  (OpenAPI: ${base}/openapi.json)
  Org            ${seed.org.slug} (${seed.org.id})
  Demo users     ${seed.users.map((u) => `${u.email} (${u.role})`).join(", ")}
  CLI token      ${owner.token}   (${owner.email})
  CLI setup      export KEYSTROKE_API_URL=${base} KEYSTROKE_TOKEN=${owner.token}
  Runtime token  ${seed.runtime_token}

  Try: curl -H "authorization: Bearer ${owner.token}" ${base}/v1/me
  Stop with Ctrl-C. State lives in ${stateDir}: delete it (while stopped) to start over.
`;
}
