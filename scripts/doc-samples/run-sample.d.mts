// Types of run-sample.mjs, for its tests (test/scripts/).
import type { DocSample } from './samples.mjs';

export type SampleKind = 'program' | 'long-running' | 'vitest' | 'node:test';
export interface SampleOutcome {
  readonly ok: boolean;
  readonly note: string;
  readonly output: string;
  readonly ms: number;
}
export declare function kindOf(sample: Pick<DocSample, 'code' | 'flags'>): SampleKind;
export declare function sampleEnv(base: NodeJS.ProcessEnv, options?: { openaiOrigin?: string; redisUrl?: string }): NodeJS.ProcessEnv;
export declare function runSample(options: {
  file: string;
  kind: SampleKind;
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs?: number;
  exitTimeoutMs?: number;
  vitestConfig?: string;
}): Promise<SampleOutcome>;
