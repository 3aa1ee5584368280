export interface ImportEdge {
  /** The importing file, from the repo root. */
  file: string;
  /** The specifier as written. */
  spec: string;
  /** The imported path from the repo root (without extension), or null for a package. */
  target: string | null;
}
export function sourceImports(dirs: string[]): ImportEdge[];
