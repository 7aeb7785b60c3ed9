import { describe, expect, it } from 'vitest';
import { ClassLine, jumpsAllowed } from '../../../src/policies/rate-limit/class-line.js';

/** A line where `allowed[rank]` calls in a row may go ahead of that rank; `order` numbers turns from 0. */
function line(allowed: number[] = []) {
  const classes = new ClassLine<string>((rank) => allowed[rank] ?? Number.POSITIVE_INFINITY);
  let turns = 0;
  const join = (rank: number, name: string) => classes.join(rank, name, classes.spot(rank), () => turns++);
  return { classes, join, turns: () => turns };
}

describe('jumpsAllowed', () => {
  it('lets (1 − s) / s calls in a row go ahead of a share s; none reserved: no bound', () => {
    expect([0.1, 0.25, 0.5, 0.9].map(jumpsAllowed)).toEqual([9, 3, 1, 1]);
    expect(jumpsAllowed(0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('ClassLine', () => {
  it('puts a newcomer ahead of the lower classes and behind its own, its turn taken from the one it passes', () => {
    const { join } = line();
    const b0 = join(2, 'b0');
    const b1 = join(2, 'b1');
    const i0 = join(0, 'i0');
    const d0 = join(1, 'd0');
    const i1 = join(0, 'i1');
    const byTurn = [b0, b1, i0, d0, i1].sort((x, y) => x.order - y.order).map((entry) => entry.item);
    expect(byTurn).toEqual(['i0', 'i1', 'd0', 'b0', 'b1']);
  });

  it('keeps the next turn beyond every turn moved back', () => {
    const { join, turns } = line();
    const entries = [join(2, 'b0'), join(2, 'b1'), join(0, 'i0'), join(0, 'i1')];
    expect(Math.max(...entries.map((entry) => entry.order))).toBeLessThan(turns());
  });

  it('says which calls a newcomer passes', () => {
    const { classes, join } = line();
    join(0, 'i0');
    join(2, 'b0');
    join(2, 'b1');
    expect(classes.spot(1).jumped.map((entry) => entry.item)).toEqual(['b0', 'b1']);
    expect(classes.spot(2)).toEqual({ before: undefined, jumped: [] });
  });

  it('keeps the first waiting call of a class owed its share in place, and counts again once that class is served', () => {
    const { classes, join } = line([0, 0, 1]);
    const b0 = join(2, 'b0');
    join(2, 'b1');
    join(2, 'b2');
    join(0, 'i0'); // passes the three: background passed once, its allowance
    expect(classes.spot(0).before?.item).toBe('b1');
    classes.leave(b0, true);
    expect(classes.spot(0).before?.item).toBe('b1');
    expect(classes.size).toBe(3);
  });

  it('does not reset the count for a call that gave up', () => {
    const { classes, join } = line([0, 0, 1]);
    const b0 = join(2, 'b0');
    join(2, 'b1');
    join(2, 'b2');
    join(0, 'i0');
    classes.leave(b0, false);
    expect(classes.spot(0).before?.item).toBe('b2');
  });
});
