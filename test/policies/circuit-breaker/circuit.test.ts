import { describe, expect, it } from 'vitest';
import { Circuit, type CircuitSettings } from '../../../src/policies/circuit-breaker/circuit.js';

const settings: CircuitSettings = {
  consecutiveFailures: 3, failureRatio: 0.5, minimumCalls: 4, window: 10_000,
  halfOpenAfter: 1_000, maxHalfOpenAfter: 3_000, jitter: false, halfOpenProbes: 2, waitForProbe: 0, maxQueued: 0,
};

function admitted(circuit: Circuit, now: number) {
  const result = circuit.admit(now);
  if (!('admission' in result)) throw new Error(`refused until ${result.retryAt}`);
  return result.admission;
}

describe('Circuit', () => {
  it('caps the growing pause at maxHalfOpenAfter', () => {
    const circuit = new Circuit(settings);
    let now = 0;
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, now), now);
    const pauses: number[] = [];
    for (let round = 0; round < 4; round++) {
      const { retryAt } = circuit.snapshot();
      pauses.push(retryAt! - now);
      now = retryAt!;
      circuit.failure(admitted(circuit, now), now);
    }
    expect(pauses).toEqual([1_000, 2_000, 3_000, 3_000]);
  });

  it('with jitter, draws each pause between 1 and 1.2 times its value', () => {
    const draws = [0, 0.5, 0.999];
    const circuit = new Circuit({ ...settings, halfOpenAfter: 1_000, maxHalfOpenAfter: 1_000, jitter: true }, () => draws.shift()!);
    let now = 0;
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, now), now);
    const pauses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const { retryAt } = circuit.snapshot();
      pauses.push(retryAt! - now);
      now = retryAt!;
      if (round < 2) circuit.failure(admitted(circuit, now), now);
    }
    expect(pauses).toEqual([1_000, 1_100, 1_200]);
    // Math.random by default: always within the bounds.
    const random = new Circuit({ ...settings, halfOpenAfter: 1_000, maxHalfOpenAfter: 1_000, jitter: true });
    now = 0;
    for (let i = 0; i < 3; i++) random.failure(admitted(random, now), now);
    for (let round = 0; round < 50; round++) {
      const pause = random.snapshot().retryAt! - now;
      expect(pause).toBeGreaterThanOrEqual(1_000);
      expect(pause).toBeLessThanOrEqual(1_200);
      now += pause;
      random.failure(admitted(random, now), now);
    }
  });

  it('admits halfOpenProbes probes at once and refuses the rest', () => {
    const circuit = new Circuit(settings);
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, 0), 0);
    const first = admitted(circuit, 1_000);
    const second = admitted(circuit, 1_000);
    expect(first.probe && second.probe).toBe(true);
    expect(circuit.admit(1_000)).toEqual({ retryAt: 1_000, probing: true });
    circuit.neutral(first);
    expect(admitted(circuit, 1_000).probe).toBe(true);
    expect(circuit.success(second, 1_001)).toEqual({ to: 'closed' });
    expect(circuit.state(1_001)).toBe('closed');
  });

  it('forgets failures that slid out of the window', () => {
    const circuit = new Circuit({ ...settings, consecutiveFailures: 100 });
    circuit.failure(admitted(circuit, 0), 0);
    circuit.failure(admitted(circuit, 0), 0);
    circuit.success(admitted(circuit, 0), 0);
    // Long idle: the old outcomes no longer count, so two new failures out of two do not reach minimumCalls.
    expect(circuit.failure(admitted(circuit, 60_000), 60_000)).toBeUndefined();
    expect(circuit.failure(admitted(circuit, 60_000), 60_000)).toBeUndefined();
    expect(circuit.state(60_000)).toBe('closed');
  });

  it('ignores late outcomes of calls admitted before it opened', () => {
    const circuit = new Circuit(settings);
    const late = admitted(circuit, 0);
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, 0), 0);
    expect(circuit.success(late, 10)).toBeUndefined();
    expect(circuit.state(10)).toBe('open');
  });

  it('ignores failures of calls admitted before it opened once a probe has closed it again', () => {
    // An LLM call can outlast the pause: the failures of the outage before must not reopen a recovered circuit.
    const circuit = new Circuit({ ...settings, halfOpenAfter: 10_000, maxHalfOpenAfter: 60_000, halfOpenProbes: 1 });
    const inFlight = Array.from({ length: 3 }, () => admitted(circuit, 0));
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, 1_000), 1_000);
    expect(circuit.success(admitted(circuit, 11_000), 11_500)).toEqual({ to: 'closed' });
    for (const admission of inFlight) expect(circuit.failure(admission, 12_000)).toBeUndefined();
    expect(circuit.state(12_000)).toBe('closed');
    // And a late neutral outcome frees no probe's place of a later half-open period.
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, 13_000), 13_000);
    const probe = admitted(circuit, 23_000);
    expect(probe.probe).toBe(true);
    circuit.neutral(inFlight[0]!);
    expect(circuit.admit(23_000)).toEqual({ retryAt: 23_000, probing: true });
  });

  it('lets only a probe of the current half-open period decide it', () => {
    const circuit = new Circuit({ ...settings, halfOpenAfter: 10_000, maxHalfOpenAfter: 60_000 });
    for (let i = 0; i < 3; i++) circuit.failure(admitted(circuit, 0), 0);
    const first = admitted(circuit, 10_000);
    const slow = admitted(circuit, 10_000);
    circuit.failure(first, 10_100);
    expect(circuit.state(10_100)).toBe('open');
    expect(admitted(circuit, 30_100).probe).toBe(true);
    // The slow probe of the period before answers now.
    expect(circuit.success(slow, 31_000)).toBeUndefined();
    expect(circuit.state(31_000)).toBe('half_open');
  });

  it('restores open state until retryAt, and a restored half-open as open now', () => {
    const circuit = new Circuit(settings);
    expect(circuit.restore({ state: 'open', retryAt: 5_000, openings: 2 }, 0)).toMatchObject({ to: 'open', reason: 'restored' });
    expect(circuit.admit(4_999)).toEqual({ retryAt: 5_000, probing: false });
    expect(admitted(circuit, 5_000).probe).toBe(true);
    const other = new Circuit(settings);
    other.restore({ state: 'half_open', openings: 1 }, 100);
    expect(admitted(other, 100).probe).toBe(true);
    expect(new Circuit(settings).restore({ state: 'closed', openings: 0 }, 0)).toBeUndefined();
  });
});
