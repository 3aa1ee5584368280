/** Types of scripts/dev-banner.mjs for the TypeScript tests. */
export declare function devBanner(o: {
  base: string;
  stateDir: string;
  seed: { org: { slug: string; id: string }; users: { email: string; role: string; token: string }[]; runtime_token: string };
}): string;
