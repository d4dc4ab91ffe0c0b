import { describe, expect, it } from 'vitest';
import { LoginError, UpstreamError } from './errors.js';
import type { IdgateEvent } from './events.js';
import { timeUpstreamCall } from './instrument.js';

describe('timeUpstreamCall', () => {
  const capture = () => {
    const events: IdgateEvent[] = [];
    return { events, emit: (e: IdgateEvent) => void events.push(e) };
  };

  it('reports an answered call as ok, with its start and its duration in seconds', async () => {
    const { events, emit } = capture();
    const before = Date.now();
    await expect(timeUpstreamCall(emit, 'verify', () => new Promise((r) => setTimeout(() => r('answer'), 30)))).resolves.toBe('answer');
    expect(events).toHaveLength(1);
    const e = events[0] as Extract<IdgateEvent, { type: 'upstream-call' }>;
    expect(e).toMatchObject({ type: 'upstream-call', operation: 'verify', outcome: 'ok' });
    expect(e.code).toBeUndefined();
    expect(e.startedAt).toBeGreaterThanOrEqual(before);
    expect(e.seconds).toBeGreaterThanOrEqual(0.025);
    expect(e.seconds).toBeLessThan(10);
  });

  it('a definitive refusal is rejected, an outage is error, anything untyped is error UNKNOWN; the error is rethrown', async () => {
    const { events, emit } = capture();
    const refused = new LoginError('INVALID_CREDENTIALS', 'no', { status: 401 });
    await expect(timeUpstreamCall(emit, 'login', () => Promise.reject(refused))).rejects.toBe(refused);
    await expect(timeUpstreamCall(emit, 'verify', () => Promise.reject(new UpstreamError('UPSTREAM_TIMEOUT', 'slow')))).rejects.toThrow('slow');
    await expect(timeUpstreamCall(emit, 'kyc', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(events.map((e) => 'outcome' in e && [e.operation, e.outcome, e.code])).toEqual([
      ['login', 'rejected', 'INVALID_CREDENTIALS'],
      ['verify', 'error', 'UPSTREAM_TIMEOUT'],
      ['kyc', 'error', 'UNKNOWN'],
    ]);
  });

  it('a throwing listener never changes the answer; no listener, no event', async () => {
    await expect(timeUpstreamCall(() => { throw new Error('listener'); }, 'chat', async () => 1)).resolves.toBe(1);
    await expect(timeUpstreamCall(undefined, 'chat', async () => 2)).resolves.toBe(2);
  });
});
