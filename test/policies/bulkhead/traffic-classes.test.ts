import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { BulkheadRejectEvent } from '../../../src/events/event-map.js';
import {
  BulkheadFullError,
  classify,
  isResilienceError,
  LoadShedError,
  resilient,
  TRAFFIC_CLASS_HEADER,
  type ResilienceOptions,
  type TrafficClass,
} from '../../../src/index.js';
import { faults } from '../../../src/testing/index.js';
import { chatParams, harness, rejectionOf, until } from '../../support/harness.js';

/** A chat call whose message names it, so that the server's log shows the order calls were sent in. */
const said = (label: string) => ({ ...chatParams, messages: [{ role: 'user' as const, content: label }] });
/** `undefined` once `call` succeeds, or its error. */
const outcomeOf = (call: Promise<unknown>): Promise<any> => call.then(() => undefined, (error: unknown) => error);
const labelOf = (request: { body: unknown }) => (request.body as { messages: { content: string }[] }).messages[0]!.content;

/**
 * A harness whose single slot (`maxConcurrent: 1`) is held by a stalled call; `queue(label, class, tenant?)`
 * starts a call and waits until it is queued (so that arrival order is the order of the `queue` calls), and
 * gives back its outcome (`undefined` for a success, else the error) in a box, so that awaiting `queue` does
 * not wait for the call.
 */
async function heldBulkhead(bulkhead: NonNullable<ResilienceOptions['bulkhead']>) {
  const h = await harness({ bulkhead: { maxConcurrent: 1, ...bulkhead } });
  h.server.enqueue(faults.stall());
  const holder = new AbortController();
  const held = rejectionOf(h.ai.chat.completions.create(said('holder'), { signal: holder.signal }));
  await until(() => h.server.requests.length === 1);
  const queue = async (label: string, trafficClass: TrafficClass, tenant?: string) => {
    const view = tenant === undefined ? h.ai : h.ai.resilience.forTenant(tenant);
    const before = h.ai.resilience.stats().bulkhead.classes[trafficClass];
    const outcome = outcomeOf(view.resilience.forClass(trafficClass).chat.completions.create(said(label)));
    await until(() => {
      const now = h.ai.resilience.stats().bulkhead.classes[trafficClass];
      return now.queued + now.shed + now.rejected > before.queued + before.shed + before.rejected;
    });
    return { outcome };
  };
  const release = async () => {
    holder.abort();
    expect(await held).toBeInstanceOf(OpenAI.APIUserAbortError);
  };
  /** The labels of the calls the server received after the holder, in order. */
  const sent = () => h.server.requests.slice(1).map(labelOf);
  return { ...h, queue, release, sent };
}

describe('bulkhead: traffic classes', () => {
  it('serves higher classes first, each class in arrival order', async () => {
    const { ai, queue, release, sent } = await heldBulkhead({ lowerClassEvery: 100 });
    const outcomes = [
      await queue('b1', 'background'),
      await queue('i1', 'interactive'),
      await queue('d1', 'default'),
      await queue('b2', 'background'),
      await queue('i2', 'interactive'),
    ];
    expect(ai.resilience.load()).toEqual({ active: 1, queued: 5 });
    await release();
    for (const { outcome } of outcomes) expect(await outcome).toBeUndefined();
    expect(sent()).toEqual(['i1', 'i2', 'd1', 'b1', 'b2']);
  });

  it('takes tenants in turn within a class, and declares a class per request as well', async () => {
    const { ai, server, queue, release, sent } = await heldBulkhead({ lowerClassEvery: 100 });
    const outcomes = [
      await queue('a-bg', 'background', 'a'),
      await queue('a1', 'interactive', 'a'),
      await queue('a2', 'interactive', 'a'),
      await queue('b1', 'interactive', 'b'),
    ];
    // A default-class view whose request says it is interactive: it queues with the interactive calls.
    const headed = outcomeOf(
      ai.resilience.forTenant('c').chat.completions.create(said('c1'), { headers: { [TRAFFIC_CLASS_HEADER]: 'interactive' } }),
    );
    await until(() => ai.resilience.load().queued === 5);
    await release();
    for (const { outcome } of [...outcomes, { outcome: headed }]) expect(await outcome).toBeUndefined();
    expect(sent()).toEqual(['a1', 'b1', 'c1', 'a2', 'a-bg']);
    expect(server.requests.some((request) => TRAFFIC_CLASS_HEADER in request.headers)).toBe(false);
  });

  it('anti-starvation: while higher classes keep the bulkhead busy, every lowerClassEvery-th slot goes to a lower class', async () => {
    const { queue, release, sent } = await heldBulkhead({ lowerClassEvery: 3 });
    const outcomes = [await queue('b1', 'background'), await queue('d1', 'default')];
    for (const label of ['i1', 'i2', 'i3', 'i4', 'i5']) outcomes.push(await queue(label, 'interactive'));
    await release();
    for (const { outcome } of outcomes) expect(await outcome).toBeUndefined();
    // Two interactive grants, then the lower classes' longest waiter (b1, before d1), two more, then d1.
    expect(sent()).toEqual(['i1', 'i2', 'b1', 'i3', 'i4', 'd1', 'i5']);
  });

  it('a full queue sheds its newest lowest-class waiter for a higher-class newcomer, with LoadShedError', async () => {
    const { ai, server, queue, release, sent } = await heldBulkhead({ maxQueued: 2 });
    const rejects: BulkheadRejectEvent[] = [];
    ai.resilience.on('bulkheadReject', (event) => rejects.push(event));
    const b1 = await queue('b1', 'background');
    const b2 = await queue('b2', 'background', 't');
    const i1 = await queue('i1', 'interactive');

    const shed = await b2.outcome;
    expect(shed).toBeInstanceOf(LoadShedError);
    expect(isResilienceError(shed)).toBe(true);
    expect(shed).toMatchObject({ name: 'LoadShedError', kind: 'load_shed', trafficClass: 'background', shedFor: 'interactive', queue: 'bulkhead' });
    expect(shed.message).toContain('background call gave way to a higher-class (interactive) call');
    expect(classify(shed)).toMatchObject({ kind: 'load_shed', action: 'fail' });

    const d1 = await queue('d1', 'default');
    expect(await b1.outcome).toBeInstanceOf(LoadShedError);
    const i2 = await queue('i2', 'interactive');
    expect(await d1.outcome).toMatchObject({ kind: 'load_shed', trafficClass: 'default', shedFor: 'interactive' });
    // Full of interactive calls: a newcomer of any class is turned away, as without classes.
    const d2 = await queue('d2', 'default');
    const i3 = await queue('i3', 'interactive');
    expect(await d2.outcome).toBeInstanceOf(BulkheadFullError);
    expect(await i3.outcome).toBeInstanceOf(BulkheadFullError);

    expect(rejects.map((event) => [event.reason, event.trafficClass, event.tenant])).toEqual([
      ['shed', 'background', 't'],
      ['shed', 'background', undefined],
      ['shed', 'default', undefined],
      ['queue_full', 'default', undefined],
      ['queue_full', 'interactive', undefined],
    ]);
    const { classes } = ai.resilience.stats().bulkhead;
    expect([classes.interactive.shed, classes.default.shed, classes.background.shed]).toEqual([0, 1, 2]);
    expect([classes.interactive.rejected, classes.default.rejected, classes.background.rejected]).toEqual([1, 1, 0]);

    await release();
    expect(await i1.outcome).toBeUndefined();
    expect(await i2.outcome).toBeUndefined();
    // The shed and rejected calls never reached the server.
    expect(sent()).toEqual(['i1', 'i2']);
    expect(server.requests).toHaveLength(3);
  });

  it('stats() counts slots and queue time per class', async () => {
    const { ai, clock, queue, release } = await heldBulkhead({});
    const interactive = await queue('i1', 'interactive');
    await clock.advance(400);
    const background = await queue('b1', 'background');
    await clock.advance(600);
    await release();
    expect(await interactive.outcome).toBeUndefined();
    expect(await background.outcome).toBeUndefined();
    const { classes } = ai.resilience.stats().bulkhead;
    expect(classes.default).toMatchObject({ granted: 1, queued: 0, queueTime: { count: 1, max: 0 } });
    expect(classes.interactive).toMatchObject({ granted: 1, queued: 0, shed: 0, rejected: 0, queueTime: { count: 1, max: 1000 } });
    expect(classes.background).toMatchObject({ granted: 1, queued: 0, queueTime: { count: 1, max: 600 } });
  });

  it('bulkhead.lowerClassEvery must be an integer from 2: a TypeError naming it', () => {
    const client = new OpenAI({ apiKey: 'sk-test' });
    for (const value of [1, 2.5, '10', 0]) {
      expect(() => resilient(client, { bulkhead: { lowerClassEvery: value as never } })).toThrow(/`bulkhead\.lowerClassEvery` must be an integer from 2/);
    }
    expect(() => resilient(client, { bulkhead: { lowerClassEvery: 2 } })).not.toThrow();
  });
});
