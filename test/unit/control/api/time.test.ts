import { describe, expect, it } from 'vitest';
import { rfc3339 } from '../../../../control/api/time.js';

describe('rfc3339', () => {
  it('writes UTC to the second, dropping the milliseconds', () => {
    expect(rfc3339(new Date('2026-12-03T06:33:32.317Z'))).toBe('2026-12-03T06:33:32Z');
    expect(rfc3339(new Date('2026-12-03T06:33:32.000Z'))).toBe('2026-12-03T06:33:32Z');
    expect(rfc3339(new Date('1999-01-01T23:59:59.999+02:00'))).toBe('1999-01-01T21:59:59Z');
  });

  it('takes milliseconds since the epoch too', () => {
    expect(rfc3339(Date.UTC(2026, 11, 3, 6, 33, 32, 500))).toBe('2026-12-03T06:33:32Z');
    expect(rfc3339(0)).toBe('1970-01-01T00:00:00Z');
  });
});
