import OpenAI, { APIPromise, AzureOpenAI, PagePromise } from 'openai';
import type { CursorPage } from 'openai/pagination';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { FileObject } from 'openai/resources/files';
import type { Stream } from 'openai/streaming';
import { describe, expectTypeOf, it } from 'vitest';
import {
  classify,
  partialOutputOf,
  resilient,
  type Classification,
  type PartialOutput,
  type ContinuationOption,
  type ContinuationRefusal,
  type StreamNotContinuedEvent,
  type ErrorKind,
  type GiveUpReason,
  type ResilienceOptions,
  type LatencySnapshot,
  type ResilientClient,
  type RetryEvent,
  type TrafficClass,
  type BudgetLimit,
  type BudgetExceededEvent,
  type BudgetLimitStats,
  BudgetExceededError,
  isBudgetExceededError,
  TRAFFIC_CLASS_HEADER,
} from '../../src/index.js';

const messages = [{ role: 'user' as const, content: 'hi' }];
declare const ai: ResilientClient<OpenAI>;

describe('resilient(): the client type', () => {
  it('keeps the class of the client it wraps', () => {
    expectTypeOf(resilient(new OpenAI())).toExtend<OpenAI>();
    expectTypeOf(resilient(new OpenAI())).toEqualTypeOf<ResilientClient<OpenAI>>();
    expectTypeOf(resilient(new AzureOpenAI({ apiVersion: '2024-10-21', endpoint: 'https://x.openai.azure.com' }))).toExtend<AzureOpenAI>();
    expectTypeOf(resilient(new OpenAI(), { retry: { maxRetries: 3 } })).toHaveProperty('resilience');
  });

  it('a class view (forClass) is a client of the same class; only the three classes are accepted', () => {
    expectTypeOf(ai.resilience.forClass('background')).toEqualTypeOf<ResilientClient<OpenAI>>();
    expectTypeOf(ai.resilience.forTenant('acme').resilience.forClass('interactive')).toEqualTypeOf<ResilientClient<OpenAI>>();
    expectTypeOf(ai.resilience.forClass).parameter(0).toEqualTypeOf<TrafficClass>();
    // @ts-expect-error not a traffic class
    ai.resilience.forClass('urgent');
    expectTypeOf(ai.chat.completions.create({ model: 'gpt-4.1', messages }, { headers: { [TRAFFIC_CLASS_HEADER]: 'background' } })).toExtend<Promise<ChatCompletion>>();
  });

  it('a pool is a client of its first member\'s class', () => {
    const azure = new AzureOpenAI({ apiVersion: '2024-10-21', endpoint: 'https://x.openai.azure.com' });
    expectTypeOf(resilient([new OpenAI(), new OpenAI()])).toEqualTypeOf<ResilientClient<OpenAI>>();
    expectTypeOf(resilient([{ client: azure, name: 'east', models: { 'gpt-4.1': 'gpt41-east' } }, new OpenAI()])).toEqualTypeOf<ResilientClient<AzureOpenAI>>();
    expectTypeOf(resilient([new OpenAI(), { client: new OpenAI(), weight: 2 }], { pool: { routing: 'ordered' } })).toExtend<OpenAI>();
    const regions = ['east', 'west'].map((name) => ({ client: azure, name }));
    expectTypeOf(resilient(regions)).toEqualTypeOf<ResilientClient<AzureOpenAI>>();
    // @ts-expect-error not a routing
    resilient([new OpenAI()], { pool: { routing: 'fastest' } });
    // @ts-expect-error a weight is a number
    resilient([{ client: new OpenAI(), weight: 'high' }]);
  });

  it('accepts only OpenAI clients', () => {
    // @ts-expect-error not a client
    resilient({});
    // @ts-expect-error not a client
    resilient('sk-...');
  });

  it('keeps the return types of resource methods', () => {
    expectTypeOf(ai.chat.completions.create({ model: 'gpt-4.1-mini', messages })).toEqualTypeOf<APIPromise<ChatCompletion>>();
    expectTypeOf(ai.chat.completions.create({ model: 'gpt-4.1-mini', messages, stream: true })).toEqualTypeOf<
      APIPromise<Stream<ChatCompletionChunk>>
    >();
    expectTypeOf(ai.chat.completions.create({ model: 'gpt-4.1-mini', messages }).withResponse()).resolves.toExtend<{
      data: ChatCompletion;
      response: Response;
      request_id: string | null;
    }>();
  });

  it('keeps pagination types', () => {
    const files = ai.files.list();
    expectTypeOf(files).toEqualTypeOf<PagePromise<CursorPage<FileObject>, FileObject>>();
    expectTypeOf(files).toExtend<AsyncIterable<FileObject>>();
    expectTypeOf(files).resolves.toHaveProperty('data').toEqualTypeOf<FileObject[]>();
  });

  it('withOptions() keeps resilience', () => {
    expectTypeOf(ai.withOptions({})).toHaveProperty('resilience');
    expectTypeOf(ai.withOptions({ timeout: 1000 }).resilience.on).toEqualTypeOf(ai.resilience.on);
  });
});

describe('ai.resilience.on()', () => {
  it('types each payload', () => {
    const stop = ai.resilience.on('retry', (e) => {
      expectTypeOf(e).toEqualTypeOf<RetryEvent>();
      expectTypeOf(e.delay).toEqualTypeOf<number>();
      expectTypeOf(e.kind).toEqualTypeOf<ErrorKind>();
      expectTypeOf(e.model).toEqualTypeOf<string | undefined>();
      expectTypeOf(e.status).toEqualTypeOf<number | undefined>();
    });
    expectTypeOf(stop).toEqualTypeOf<() => void>();

    ai.resilience.on('giveUp', (e) => {
      expectTypeOf(e.reason).toEqualTypeOf<GiveUpReason>();
      expectTypeOf(e.delay).toEqualTypeOf<number | undefined>();
    });
    ai.resilience.on('listenerError', (e) => {
      expectTypeOf(e.event).toEqualTypeOf<string>();
      expectTypeOf(e.error).toBeUnknown();
    });
  });

  it('gives every fallback step a destination', () => {
    ai.resilience.on('fallback', (e) => {
      expectTypeOf(e.to).toEqualTypeOf<string>();
      expectTypeOf(e.target).toEqualTypeOf<'model' | 'client' | 'value'>();
    });
  });

  it('rejects unknown events and mismatched listeners', () => {
    // @ts-expect-error no such event
    ai.resilience.on('nope', () => {});
    // @ts-expect-error a retry event has no `reason`
    ai.resilience.on('retry', (e) => e.reason);
    // @ts-expect-error `delay` is a number
    ai.resilience.on('retry', (e: { delay: string }) => e.delay);
  });
});

describe('ResilienceOptions', () => {
  it('accepts valid options', () => {
    expectTypeOf({ retry: false, timeout: { attempt: 30_000, total: false } } as const).toExtend<ResilienceOptions>();
    expectTypeOf({ actions: { quota_exhausted: 'retry' } } as const).toExtend<ResilienceOptions>();
    expectTypeOf<undefined>().toExtend<ResilienceOptions | undefined>();
  });

  it('rejects unknown keys and wrong types at compile time', () => {
    const client = new OpenAI();
    // @ts-expect-error unknown key
    resilient(client, { retries: 3 });
    // @ts-expect-error unknown nested key
    resilient(client, { retry: { attempts: 3 } });
    // @ts-expect-error maxRetries is a number
    resilient(client, { retry: { maxRetries: '3' } });
    // @ts-expect-error total is a number or false
    resilient(client, { timeout: { total: 'x' } });
    // @ts-expect-error total cannot be true
    resilient(client, { timeout: { total: true } });
    // @ts-expect-error an action is 'retry' or 'fail'
    resilient(client, { actions: { bad_request: 'maybe' } });
    // @ts-expect-error not an error kind
    resilient(client, { actions: { not_a_kind: 'retry' } });
    // @ts-expect-error policies are arrays
    resilient(client, { policies: { call: {} } });
    // @ts-expect-error a clock needs now, setTimeout and clearTimeout
    resilient(client, { clock: { now: () => 0 } });
  });
});

describe('ai.resilience.stats()', () => {
  it('always has latency percentiles: usable without `!` or `?.`', () => {
    const { total, models } = ai.resilience.stats();
    expectTypeOf(total.latency).toEqualTypeOf<LatencySnapshot>();
    expectTypeOf(total.latency.p95).toEqualTypeOf<number>();
    expectTypeOf(total.latency.count).toEqualTypeOf<number>();
    expectTypeOf(total.streams.timeToFirstChunk.p50).toEqualTypeOf<number>();
    expectTypeOf(models['gpt-4.1']?.latency.max).toEqualTypeOf<number | undefined>();
  });
});

describe('classify()', () => {
  it('returns a Classification', () => {
    expectTypeOf(classify(new Error('x'))).toEqualTypeOf<Classification>();
    expectTypeOf(classify).parameter(0).toBeUnknown();
    expectTypeOf(classify(undefined).kind).toEqualTypeOf<ErrorKind>();
    expectTypeOf(classify(undefined).action).toEqualTypeOf<'retry' | 'fail'>();
  });
});

describe('partialOutputOf()', () => {
  it('takes any caught value and may answer nothing', () => {
    expectTypeOf(partialOutputOf).parameter(0).toEqualTypeOf<unknown>();
    expectTypeOf(partialOutputOf(new Error('x'))).toEqualTypeOf<PartialOutput | undefined>();
    expectTypeOf<PartialOutput['api']>().toEqualTypeOf<'chat.completions' | 'responses'>();
    expectTypeOf<PartialOutput['toolCalls'][number]['complete']>().toEqualTypeOf<boolean>();
  });
});

describe('streaming.continuation', () => {
  it('a strategy, false, or a function of the original body and the partial output', () => {
    expectTypeOf<ResilienceOptions['streaming']>().exclude<undefined>().toHaveProperty('continuation');
    expectTypeOf<'prefix'>().toExtend<ContinuationOption>();
    expectTypeOf<false>().toExtend<ContinuationOption>();
    expectTypeOf<'yes'>().not.toExtend<ContinuationOption>();
    const build = (body: Readonly<Record<string, unknown>>, partial: PartialOutput) => ({ ...body, extra: partial.text });
    expectTypeOf(build).toExtend<ContinuationOption>();
    resilient(new OpenAI(), { streaming: { continuation: (body, partial) => (partial.text === '' ? undefined : { ...body }) } });
    // @ts-expect-error: not a strategy
    resilient(new OpenAI(), { streaming: { continuation: 'assistant_prefill' } });
  });

  it("streamNotContinued's reason: every refusal, and the three other ways not to continue", () => {
    expectTypeOf<StreamNotContinuedEvent['reason']>().toEqualTypeOf<ContinuationRefusal | 'limit' | 'declined' | 'failed'>();
  });
});

describe('budgets: the option, the error and the stats', () => {
  it('types the limits, narrows the error, and types stats().budgets', () => {
    resilient(new OpenAI(), { budgets: { limits: [{ tokens: 1_000, window: 'hour' }, { spend: 5, window: 'month', per: 'client' }], prices: { 'gpt-4.1': { input: 2, output: 8 } } } });
    // @ts-expect-error: not a window
    resilient(new OpenAI(), { budgets: { limits: [{ tokens: 1_000, window: 'fortnight' }] } });
    resilient(new OpenAI(), { fallback: { on: ['budget_exceeded'] } });
    // @ts-expect-error: not an error kind
    resilient(new OpenAI(), { fallback: { on: ['over_budget'] } });
    expectTypeOf<BudgetLimit['per']>().toEqualTypeOf<'tenant' | 'client' | undefined>();
    const error: unknown = undefined;
    if (isBudgetExceededError(error)) expectTypeOf(error).toEqualTypeOf<BudgetExceededError>();
    expectTypeOf<BudgetExceededError['resetsAt']>().toEqualTypeOf<Date>();
    expectTypeOf<BudgetExceededEvent['requested']>().toEqualTypeOf<number>();
    expectTypeOf(ai.resilience.stats().budgets).toEqualTypeOf<Readonly<Record<string, BudgetLimitStats>>>();
    expectTypeOf<'budget_exceeded'>().toExtend<ErrorKind>();
  });
});
