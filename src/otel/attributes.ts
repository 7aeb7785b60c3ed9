/** GenAI semantic-convention names (stable or development, as of 2026), and ours under `openai_resilient.*`. */
export const ATTR = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  tokenType: 'gen_ai.token.type',
  errorType: 'error.type',
  method: 'http.request.method',
  callId: 'openai_resilient.call_id',
  tenant: 'openai_resilient.tenant',
  /** The call's traffic class (`interactive`, `default`, `background`): three values, safe on metrics too. */
  trafficClass: 'openai_resilient.traffic_class',
  attempt: 'openai_resilient.attempt',
  hedge: 'openai_resilient.hedge',
  member: 'openai_resilient.member',
  stream: 'openai_resilient.stream',
} as const;

/** `gen_ai.operation.name` for an OpenAI path. */
export function operationOf(path: string): string {
  if (path.endsWith('/chat/completions') || path.endsWith('/responses')) return 'chat';
  if (path.endsWith('/embeddings')) return 'embeddings';
  if (path.endsWith('/completions')) return 'text_completion';
  return path.replace(/^\//, '');
}
