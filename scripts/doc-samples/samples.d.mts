// Types of samples.mjs, for its tests (test/scripts/).
export interface DocSample {
  readonly file: string;
  readonly line: number;
  readonly lang: 'ts' | 'js';
  readonly flags: ReadonlySet<string>;
  readonly where: string;
  readonly name: string;
  readonly code: string;
  readonly free: ReadonlySet<string>;
  readonly prelude: readonly string[];
  readonly complete: boolean;
}
export declare const IMPORTS: Record<string, { default?: string; named?: string[] }>;
export declare const DECLARATIONS: Record<string, string>;
export declare function documents(root: string): string[];
export declare function readSamples(root: string): DocSample[];
export declare function freeNames(body: string, lang?: 'ts' | 'js'): Set<string>;
