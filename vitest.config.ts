import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "lib", environment: "node", include: ["test/lib/**/*.test.ts"] },
      },
    ],
  },
});
