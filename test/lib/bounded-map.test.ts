import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../lib/bounded-map";

describe("BoundedMap", () => {
  it("starts over when one more entry would pass maxEntries", () => {
    const m = new BoundedMap<string, number>(2);
    m.set("a", 1);
    m.set("b", 2);
    m.set("b", 3); // replacing a key does not count twice
    expect([m.size, m.get("a"), m.get("b")]).toEqual([2, 1, 3]);
    m.set("c", 4);
    expect([m.size, m.get("a"), m.get("c")]).toEqual([1, undefined, 4]);
  });

  it("starts over when the total weight would pass maxWeight, and counts deletes and replacements", () => {
    const m = new BoundedMap<string, number[]>(100, 5, (v) => v.length);
    m.set("a", [1, 2, 3]);
    m.set("a", [1, 2]); // weight 2, not 5
    m.set("b", [1, 2, 3]); // 5 in all: kept
    expect(m.size).toBe(2);
    m.delete("b");
    m.set("c", [1, 2, 3]); // 5 again: kept
    expect([m.get("a"), m.get("c")]).toEqual([[1, 2], [1, 2, 3]]);
    m.set("d", [1]); // 6: starts over
    expect([m.size, m.get("a"), m.get("d")]).toEqual([1, undefined, [1]]);
  });
});
