import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  BulkheadFullError,
  CircuitOpenError,
  classify,
  DeadlineExceededError,
  isResilienceError,
  MalformedResponseError,
  ResilienceError,
  StreamIdleTimeoutError,
} from '../../src/index.js';
import { onSdkCopy } from '../../src/errors/sdk-copies.js';

/** Another copy of the SDK's base error class, as the CommonJS build or a second version would have. */
class OtherOpenAIError extends Error {}
class ThirdOpenAIError extends Error {}

describe('onSdkCopy', () => {
  it('re-bases an error of ours on another SDK copy, keeping the object, its fields and our classes', () => {
    const cause = new OpenAI.InternalServerError(500, undefined, 'upstream', new Headers());
    const error = new DeadlineExceededError(3_000, 2, cause);
    const stack = error.stack;
    expect(onSdkCopy(error, OtherOpenAIError)).toBe(error);

    expect(error).toBeInstanceOf(OtherOpenAIError);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(OpenAI.OpenAIError);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toBeInstanceOf(ResilienceError);
    expect(error).not.toBeInstanceOf(CircuitOpenError);
    expect(error.constructor).toBe(DeadlineExceededError);
    expect(error).toMatchObject({ name: 'DeadlineExceededError', kind: 'deadline_exceeded', timeout: 3_000, attempts: 2, cause });
    expect(error.message).toBe('Request exceeded its total deadline of 3000 ms after 2 attempt(s).');
    expect(error.stack).toBe(stack);
    expect(isResilienceError(error)).toBe(true);
    expect(classify(error)).toMatchObject({ kind: 'deadline_exceeded', action: 'fail' });
    expect(Object.prototype.toString.call(error)).toBe('[object Error]');
  });

  it('moves an error from one copy to another, or back to our own', () => {
    const error = new StreamIdleTimeoutError(2, 5_000);
    onSdkCopy(error, OtherOpenAIError);
    onSdkCopy(error, ThirdOpenAIError);
    expect(error).toBeInstanceOf(ThirdOpenAIError);
    expect(error).not.toBeInstanceOf(OtherOpenAIError);
    expect(error).toBeInstanceOf(StreamIdleTimeoutError);
    onSdkCopy(error, OpenAI.OpenAIError);
    expect(Object.getPrototypeOf(error)).toBe(StreamIdleTimeoutError.prototype);
    expect(error).toBeInstanceOf(OpenAI.OpenAIError);
  });

  it('leaves our errors alone for our own copy, or without a usable class', () => {
    const error = new BulkheadFullError(1, 0, undefined);
    for (const base of [OpenAI.OpenAIError, undefined, 'OpenAIError', () => undefined]) {
      onSdkCopy(error, base);
      expect(Object.getPrototypeOf(error)).toBe(BulkheadFullError.prototype);
    }
  });

  it('shares one set of prototypes per SDK copy and class', () => {
    const first = onSdkCopy(new CircuitOpenError('gpt-4.1', 2_000, 1_000), OtherOpenAIError);
    const second = onSdkCopy(new CircuitOpenError('gpt-4.1-mini', 3_000, 1_000), OtherOpenAIError);
    const malformed = onSdkCopy(new MalformedResponseError('bad', new Response('x', { status: 200 })), OtherOpenAIError);
    expect(Object.getPrototypeOf(first)).toBe(Object.getPrototypeOf(second));
    expect(Object.getPrototypeOf(Object.getPrototypeOf(first))).toBe(Object.getPrototypeOf(Object.getPrototypeOf(malformed)));
    expect(Object.getPrototypeOf(Object.getPrototypeOf(first))).not.toBe(ResilienceError.prototype);
    expect(malformed).toBeInstanceOf(MalformedResponseError);
    expect(malformed).not.toBeInstanceOf(CircuitOpenError);
  });

  it('returns anything that is not an error of this copy of the package as it is', () => {
    const sdkError = new OpenAI.APIConnectionError({ message: 'reset' });
    const plain = new Error('plain');
    const otherPackageCopy = Object.assign(new Error('another copy of openai-resilient'), {
      [Symbol.for('openai-resilient.ResilienceError')]: true,
      kind: 'circuit_open',
    });
    for (const value of [sdkError, plain, otherPackageCopy, undefined, null, 'text', 42]) {
      const proto = value === undefined || value === null ? undefined : Object.getPrototypeOf(value);
      expect(onSdkCopy(value, OtherOpenAIError)).toBe(value);
      if (proto !== undefined) expect(Object.getPrototypeOf(value)).toBe(proto);
    }
  });
});

describe('instanceof our error classes', () => {
  it('ResilienceError recognises an error of another copy of this package by its brand, as isResilienceError does', () => {
    const otherPackageCopy = Object.assign(new Error('another copy'), { [Symbol.for('openai-resilient.ResilienceError')]: true });
    expect(otherPackageCopy).toBeInstanceOf(ResilienceError);
    expect(isResilienceError(otherPackageCopy)).toBe(true);
    expect(otherPackageCopy).not.toBeInstanceOf(DeadlineExceededError);
  });

  it('is unchanged for everything else', () => {
    expect(new OpenAI.APIError(500, undefined, 'x', new Headers())).not.toBeInstanceOf(ResilienceError);
    expect(new Error('x')).not.toBeInstanceOf(DeadlineExceededError);
    expect(null).not.toBeInstanceOf(ResilienceError);
    expect(Object.create(DeadlineExceededError.prototype)).toBeInstanceOf(DeadlineExceededError);
    expect(new DeadlineExceededError(1, 1)).toBeInstanceOf(OpenAI.OpenAIError);
    expect(new DeadlineExceededError(1, 1)).not.toBeInstanceOf(StreamIdleTimeoutError);
  });
});
