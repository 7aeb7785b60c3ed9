import type { PartialChoice, PartialOutput, PartialToolCall } from './partial-output.js';

interface CallState {
  readonly index: number;
  id: string | undefined;
  name: string | undefined;
  /** The argument deltas, joined when assembled. */
  args: string[];
  done: boolean;
}

interface ChoiceState {
  readonly index: number;
  text: string[];
  refusal: string[] | undefined;
  readonly calls: Map<number, CallState>;
  finish: string | undefined;
}

type Json = Record<string, unknown>;

/** The chat finish reasons that say the model finished what it was writing. */
const FINISHED = new Set(['stop', 'tool_calls', 'function_call']);

/**
 * Assembles the events of a chat (or legacy completions) stream or a Responses stream, each given as its
 * `data` text, into a {@link PartialOutput}. It runs only when a failed stream's partial output is asked
 * for (or, for a long stream, once per batch of events: `received-output.ts`), never per chunk.
 */
export class OutputBuilder {
  #api: PartialOutput['api'] | undefined;
  #id: string | undefined;
  #model: string | undefined;
  #created: number | undefined;
  #fingerprint: string | undefined;
  #sequence: number | undefined;
  readonly #choices = new Map<number, ChoiceState>();

  /** One event's `data`; anything that is not JSON of a known shape is skipped. */
  take(data: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(payload)) return;
    if (typeof payload['type'] === 'string') this.#responses(payload['type'], payload);
    else if (Array.isArray(payload['choices'])) this.#chat(payload);
  }

  /** The output so far; `undefined` when no event of a known API arrived. */
  result(chunks: number, usage: object | undefined): PartialOutput | undefined {
    if (this.#api === undefined) return undefined;
    const choices = [...this.#choices.values()].sort((a, b) => a.index - b.index).map((state) => this.#choiceOf(state));
    const first = choices.find((choice) => choice.index === 0);
    return {
      api: this.#api,
      id: this.#id,
      model: this.#model,
      created: this.#created,
      systemFingerprint: this.#fingerprint,
      text: first?.text ?? '',
      refusal: first?.refusal,
      toolCalls: first?.toolCalls ?? [],
      choices,
      sequenceNumber: this.#sequence,
      usage: usage as PartialOutput['usage'],
      chunks,
    };
  }

  #chat(chunk: Json): void {
    this.#api ??= 'chat.completions';
    if (typeof chunk['id'] === 'string') this.#id ??= chunk['id'];
    if (typeof chunk['model'] === 'string') this.#model ??= chunk['model'];
    if (typeof chunk['created'] === 'number') this.#created ??= chunk['created'];
    if (typeof chunk['system_fingerprint'] === 'string') this.#fingerprint ??= chunk['system_fingerprint'];
    for (const choice of chunk['choices'] as unknown[]) {
      if (!isObject(choice)) continue;
      const state = this.#choice(typeof choice['index'] === 'number' ? choice['index'] : 0);
      if (typeof choice['finish_reason'] === 'string') state.finish = choice['finish_reason'];
      // Legacy completions (`completions.create()`) stream their text as `choices[].text`.
      if (typeof choice['text'] === 'string') state.text.push(choice['text']);
      const delta = choice['delta'];
      if (!isObject(delta)) continue;
      if (typeof delta['content'] === 'string') state.text.push(delta['content']);
      if (typeof delta['refusal'] === 'string') (state.refusal ??= []).push(delta['refusal']);
      if (!Array.isArray(delta['tool_calls'])) continue;
      for (const call of delta['tool_calls'] as unknown[]) {
        if (!isObject(call)) continue;
        const callState = this.#call(state, typeof call['index'] === 'number' ? call['index'] : state.calls.size);
        if (typeof call['id'] === 'string') callState.id = call['id'];
        const fn = call['function'];
        if (!isObject(fn)) continue;
        if (typeof fn['name'] === 'string') callState.name = fn['name'];
        if (typeof fn['arguments'] === 'string') callState.args.push(fn['arguments']);
      }
    }
  }

  #responses(type: string, event: Json): void {
    if (!type.startsWith('response.')) return;
    this.#api ??= 'responses';
    if (typeof event['sequence_number'] === 'number') this.#sequence = event['sequence_number'];
    const response = event['response'];
    if (isObject(response)) {
      if (typeof response['id'] === 'string') this.#id ??= response['id'];
      if (typeof response['model'] === 'string') this.#model ??= response['model'];
      return;
    }
    const state = this.#choice(0);
    const outputIndex = typeof event['output_index'] === 'number' ? event['output_index'] : undefined;
    const delta = typeof event['delta'] === 'string' ? event['delta'] : undefined;
    switch (type) {
      case 'response.output_text.delta':
        if (delta !== undefined) state.text.push(delta);
        return;
      case 'response.refusal.delta':
        if (delta !== undefined) (state.refusal ??= []).push(delta);
        return;
      case 'response.output_item.added':
      case 'response.output_item.done': {
        const item = event['item'];
        if (outputIndex === undefined || !isObject(item) || item['type'] !== 'function_call') return;
        const call = this.#call(state, outputIndex);
        if (typeof item['call_id'] === 'string') call.id = item['call_id'];
        if (typeof item['name'] === 'string') call.name = item['name'];
        if (type === 'response.output_item.done' && typeof item['arguments'] === 'string') {
          call.args = [item['arguments']];
          // An item cut short (`max_output_tokens`) is done, but its arguments are not whole.
          call.done = item['status'] !== 'incomplete';
        } else if (typeof item['arguments'] === 'string' && item['arguments'] !== '') call.args.push(item['arguments']);
        return;
      }
      case 'response.function_call_arguments.delta':
        if (outputIndex !== undefined && delta !== undefined) this.#call(state, outputIndex).args.push(delta);
        return;
      case 'response.function_call_arguments.done':
        if (outputIndex !== undefined && typeof event['arguments'] === 'string') {
          const call = this.#call(state, outputIndex);
          call.args = [event['arguments']];
          call.done = true;
        }
        return;
    }
  }

  #choice(index: number): ChoiceState {
    let state = this.#choices.get(index);
    if (!state) this.#choices.set(index, (state = { index, text: [], refusal: undefined, calls: new Map(), finish: undefined }));
    return state;
  }

  #call(choice: ChoiceState, index: number): CallState {
    let call = choice.calls.get(index);
    if (!call) choice.calls.set(index, (call = { index, id: undefined, name: undefined, args: [], done: false }));
    return call;
  }

  #choiceOf(state: ChoiceState): PartialChoice {
    const calls = [...state.calls.values()].sort((a, b) => a.index - b.index);
    const chat = this.#api === 'chat.completions';
    const toolCalls = calls.map(
      (call, position): PartialToolCall => ({
        index: call.index,
        id: call.id,
        name: call.name,
        arguments: call.args.join(''),
        // Chat tool calls stream one after the other: a later one beginning ends this one; the choice's end
        // ends the last, unless it was cut short (`length`, `content_filter`).
        complete: call.done || (chat && (position < calls.length - 1 || (state.finish !== undefined && FINISHED.has(state.finish)))),
      }),
    );
    return {
      index: state.index,
      text: state.text.join(''),
      refusal: state.refusal?.join(''),
      toolCalls,
      finishReason: state.finish,
    };
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}
