// Compare secrets (passwords, client secrets) without leaking where they differ through
// timing.

import { createHash, timingSafeEqual } from 'node:crypto';

/** True when `given` equals `expected`, in a time that depends on neither. */
export function safeEqual(given: string, expected: string): boolean {
  // Hash both sides first: timingSafeEqual needs equal lengths, and the hashes always are.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
