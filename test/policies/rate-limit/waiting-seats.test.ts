import { describe, expect, it } from 'vitest';
import { LoadShedError } from '../../../src/index.js';
import { WaitingSeats } from '../../../src/policies/rate-limit/waiting-seats.js';

describe('WaitingSeats', () => {
  it('sheds the newest waiter of the lowest class below the newcomer, interrupting its sleep; none when all are as high', () => {
    const seats = new WaitingSeats();
    const interrupted: Error[] = [];
    const d0 = seats.take(1);
    const b0 = seats.take(2);
    const b1 = seats.take(2);
    b1.interrupt = (error) => interrupted.push(error);
    const i0 = seats.take(0);
    expect(seats.shedFor(0)).toBe(true);
    expect(b1.shed).toBeInstanceOf(LoadShedError);
    expect(b1.shed).toMatchObject({ trafficClass: 'background', shedFor: 'interactive', queue: 'rateLimit' });
    expect(interrupted).toEqual([b1.shed]);
    expect(seats.size).toBe(3);
    expect(seats.shedFor(1)).toBe(true);
    expect(b0.shed).toMatchObject({ trafficClass: 'background', shedFor: 'default' });
    // Only default and interactive left: a default newcomer sheds no one; an interactive one sheds d0.
    expect(seats.shedFor(1)).toBe(false);
    expect(seats.shedFor(0)).toBe(true);
    expect(d0.shed).toMatchObject({ trafficClass: 'default', shedFor: 'interactive' });
    expect(seats.shedFor(0)).toBe(false);
    seats.leave(i0);
    seats.leave(i0);
    expect(seats.size).toBe(0);
  });
});
