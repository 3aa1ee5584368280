import { z } from "zod";

/** The answer of POST /dev/seed (SPEC section 11). */
export const SeedAnswer = z.object({
  org: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  api_url: z.string(),
  users: z.array(z.object({ email: z.string(), name: z.string(), role: z.string(), token: z.string() })),
  runtime_token: z.string(),
  projects: z.array(z.object({ slug: z.string(), name: z.string(), members: z.array(z.object({ email: z.string(), role: z.string() })) })),
});
export type SeedAnswer = z.infer<typeof SeedAnswer>;
