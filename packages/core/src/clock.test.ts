import { setImmediate as realImmediate } from 'node:timers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { turnNow } from './clock.js';

const nextTurn = () => new Promise<void>((resolve) => realImmediate(resolve));
const spin = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

describe('turnNow', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers the same time for the rest of the turn, then reads the clock again', async () => {
    await nextTurn();
    const first = turnNow();
    spin(15);
    expect(turnNow()).toBe(first);
    await Promise.resolve(); // a microtask is not a turn
    expect(turnNow()).toBe(first);
    await nextTurn();
    const later = turnNow();
    expect(later).toBeGreaterThanOrEqual(first + 15);
    expect(Math.abs(later - Date.now())).toBeLessThan(1000);
  });

  it('follows a faked clock across turns: fake timers replacing the globals do not hold the reset back', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    await nextTurn();
    expect(turnNow()).toBe(Date.parse('2026-01-01T00:00:00Z'));
    vi.setSystemTime(new Date('2026-01-01T02:00:00Z'));
    await nextTurn();
    expect(turnNow()).toBe(Date.parse('2026-01-01T02:00:00Z'));
  });
});
