/**
 * The alarm's claim-and-run loop (Slack and webhook deliveries, refreshes, daily probes): up to
 * `concurrency` jobs at once, a new one claimed only while inside the time budget, until nothing
 * is claimable and nothing runs. `claim` is synchronous so each claim stays atomic in the
 * Durable Object; a job that throws goes to `onCrash` (which settles it) and never stops the loop.
 */
export async function runClaimed<T>(opts: {
  concurrency: number;
  budgetMs: number;
  claim: () => T | null;
  run: (job: T) => Promise<void>;
  onCrash: (job: T, error: unknown) => void;
}): Promise<void> {
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  for (;;) {
    while (inFlight.size < opts.concurrency && Date.now() - started < opts.budgetMs) {
      const job = opts.claim();
      if (job === null) break;
      const p: Promise<void> = opts.run(job).catch((e) => opts.onCrash(job, e)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
}
