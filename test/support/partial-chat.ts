import type { PartialOutput } from '../../src/streams/partial-output.js';

/** A chat stream's partial output: `text` after `chunks` chunks (the role chunk and one per token). */
export function partialChat(text: string, overrides: Partial<PartialOutput> = {}): PartialOutput {
  return {
    api: 'chat.completions',
    id: 'chatcmpl-1',
    model: 'gpt-4.1-mini',
    created: 1_700_000_000,
    systemFingerprint: 'fp_original',
    text,
    refusal: undefined,
    toolCalls: [],
    choices: [{ index: 0, text, refusal: undefined, toolCalls: [], finishReason: undefined }],
    sequenceNumber: undefined,
    usage: undefined,
    chunks: 3,
    ...overrides,
  };
}
