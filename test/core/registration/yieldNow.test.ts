import { describe, expect, it } from 'vitest';
import { createYielder } from '../../../src/core/registration/yieldNow.js';

describe('createYielder', () => {
  it('lets a timer (e.g. a signal handler) run during a long loop of synchronous work', async () => {
    const yieldNow = createYielder(5);
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 1);
    const start = Date.now();
    while (!fired && Date.now() - start < 2000) {
      const until = Date.now() + 2;
      while (Date.now() < until) {
        /* busy: one "pair" of work */
      }
      await yieldNow();
    }
    expect(fired).toBe(true);
    expect(Date.now() - start).toBeLessThan(200);
  });
});
