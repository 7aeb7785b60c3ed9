/**
 * Realistic OpenAI-shaped JSON bodies used by the fault server's default routes.
 * All builders are pure: pass ids and timestamps in to get deterministic output.
 *
 * @module
 */

/** Unix seconds, as OpenAI's `created` / `created_at` fields. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Rough token estimate (4 characters per token), good enough for `usage` fields. */
export function estimateTokens(value: unknown): number {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return Math.max(1, Math.ceil(text.length / 4));
}

/** The fields of an OpenAI error body. */
export interface OpenAIErrorFields {
  message: string;
  type: string;
  param?: string | null;
  code?: string | null;
}

/** `{"error":{"message","type","param","code"}}` as the API sends it. */
export function errorBody(e: OpenAIErrorFields): { error: Required<OpenAIErrorFields> } {
  return { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } };
}

/** Common inputs of the completion builders. */
export interface CompletionInit {
  id: string;
  model: string;
  content?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** Chat Completions `usage` object. */
export function chatUsage(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** A non-streaming `chat.completion` with one assistant choice. */
export function chatCompletion(init: CompletionInit): Record<string, unknown> {
  const content = init.content ?? 'ok';
  return {
    id: init.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: init.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: chatUsage(init.promptTokens ?? 10, init.completionTokens ?? estimateTokens(content)),
    service_tier: 'default',
    system_fingerprint: 'fp_fault_server',
  };
}

/** Responses API `usage` object. */
export function responseUsage(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

/** The assistant `message` output item of a Responses API response. */
export function responseMessageItem(id: string, text: string, status = 'completed'): Record<string, unknown> {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [],
  };
}

/** A Responses API `response` object (`status` defaults to `completed`). */
export function responseObject(
  init: CompletionInit & { status?: string; output?: unknown[] },
): Record<string, unknown> {
  const content = init.content ?? 'ok';
  const status = init.status ?? 'completed';
  const done = status === 'completed';
  return {
    id: init.id,
    object: 'response',
    created_at: nowSeconds(),
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: init.model,
    output: init.output ?? (done ? [responseMessageItem(`msg_${init.id.replace(/^resp_/, '')}`, content)] : []),
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: done ? responseUsage(init.promptTokens ?? 10, init.completionTokens ?? estimateTokens(content)) : null,
    user: null,
    metadata: {},
  };
}

/** A deterministic small embedding vector. */
export function embeddingVector(index: number, dimensions = 8): number[] {
  return Array.from({ length: dimensions }, (_, i) => Math.round(Math.sin(index + i + 1) * 1e4) / 1e4);
}

/** Base64 of little-endian float32s, as sent for `encoding_format: 'base64'`. */
export function toBase64Float32(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary); // web-standard (browsers, Node ≥ 16): no `Buffer`
}

/** An embeddings list response with one embedding per input. */
export function embeddingList(
  count: number,
  model: string,
  opts: { dimensions?: number; base64?: boolean; promptTokens?: number } = {},
): Record<string, unknown> {
  const tokens = opts.promptTokens ?? count;
  return {
    object: 'list',
    data: Array.from({ length: count }, (_, index) => {
      const vector = embeddingVector(index, opts.dimensions);
      return { object: 'embedding', index, embedding: opts.base64 ? toBase64Float32(vector) : vector };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** A `model` object. */
export function modelObject(id: string): Record<string, unknown> {
  return { id, object: 'model', created: 1715367049, owned_by: 'system' };
}

/** The models listed by `GET /models`. */
export const MODEL_IDS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o3-mini', 'text-embedding-3-small'] as const;

/** A `file` object. */
export function fileObject(id: string, init: { filename?: string; purpose?: string; bytes?: number } = {}): Record<string, unknown> {
  return {
    id,
    object: 'file',
    bytes: init.bytes ?? 1024,
    created_at: 1715367049,
    expires_at: null,
    filename: init.filename ?? `${id}.jsonl`,
    purpose: init.purpose ?? 'fine-tune',
    status: 'processed',
    status_details: null,
  };
}

/** A `fine_tuning.job` object. */
export function fineTuningJobObject(id: string): Record<string, unknown> {
  return {
    id,
    object: 'fine_tuning.job',
    created_at: 1715367049,
    finished_at: 1715370649,
    model: 'gpt-4o-mini-2024-07-18',
    fine_tuned_model: `ft:gpt-4o-mini-2024-07-18:org-xxx::${id}`,
    organization_id: 'org-xxx',
    status: 'succeeded',
    hyperparameters: { n_epochs: 3, batch_size: 1, learning_rate_multiplier: 1 },
    training_file: 'file-1',
    validation_file: null,
    result_files: [],
    trained_tokens: 12345,
    error: null,
    seed: 42,
  };
}

/** A `batch` object. */
export function batchObject(id: string): Record<string, unknown> {
  return {
    id,
    object: 'batch',
    endpoint: '/v1/chat/completions',
    errors: null,
    input_file_id: 'file-1',
    completion_window: '24h',
    status: 'completed',
    output_file_id: 'file-2',
    error_file_id: null,
    created_at: 1715367049,
    completed_at: 1715370649,
    request_counts: { total: 10, completed: 10, failed: 0 },
    metadata: null,
  };
}

/** A `vector_store.file` object. */
export function vectorStoreFileObject(
  vectorStoreId: string,
  fileId: string,
  status: 'in_progress' | 'completed' | 'failed' | 'cancelled',
): Record<string, unknown> {
  return {
    id: fileId,
    object: 'vector_store.file',
    usage_bytes: status === 'completed' ? 1024 : 0,
    created_at: 1715367049,
    vector_store_id: vectorStoreId,
    status,
    last_error: null,
    chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } },
  };
}
