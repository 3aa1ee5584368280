export interface LintReport {
  redocly: { totals: { errors: number; warnings: number; ignored: number }; problems: string[] };
  spectral: { status: number | null; problems: string[]; stderr: string };
}
export function lintOpenApi(doc: unknown): LintReport;
