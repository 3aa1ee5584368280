/** A door's methods for one org: each call's first argument, the org id, filled in. */
export type OrgDoor<D> = { [K in keyof D]: D[K] extends (orgId: string, ...a: infer A) => infer R ? (...a: A) => R : never };

/**
 * How a worker holds its door for the org of a request, so its calls read like the vault's
 * (`vault.beginConnect(token, …)`). No I/O: the door checks the org id (vaultStub) on each call.
 */
export function orgDoor<D extends object>(door: D, orgId: string): OrgDoor<D> {
  return new Proxy({} as OrgDoor<D>, {
    get(_target, method) {
      // Not a thenable, so it can be returned from async code as itself.
      if (typeof method !== "string" || method === "then") return undefined;
      return (...args: unknown[]) => (door as Record<string, (...a: unknown[]) => unknown>)[method]!(orgId, ...args);
    },
  });
}
