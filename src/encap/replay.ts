/**
 * Sliding-window replay protection (RFC 6479's bitmap, as WireGuard uses it): a counter is
 * accepted once, if it is newer than the highest seen or at most `size` − 1 behind it and not yet
 * seen. test() is the cheap check before authentication; accept() records a counter only after the
 * packet carrying it authenticated, so forged packets cannot move the window.
 *
 * Counters are JavaScript numbers: exact below 2^53, which a sender reaches after centuries.
 */
export class ReplayWindow {
  private readonly bits: Uint32Array;
  private readonly size: number;
  /** Highest accepted counter, −1 before the first. */
  private top = -1;

  constructor(size = 2048) {
    if (size < 32 || size % 32 !== 0) throw new RangeError('window size must be a multiple of 32');
    this.size = size;
    this.bits = new Uint32Array(size / 32);
  }

  private slot(counter: number): [number, number] {
    const bit = counter % this.size;
    return [bit >>> 5, 1 << (bit & 31)];
  }

  /** True when `counter` would be accepted now. */
  test(counter: number): boolean {
    if (counter > this.top) return true;
    if (this.top - counter >= this.size) return false;
    const [word, mask] = this.slot(counter);
    return (this.bits[word] & mask) === 0;
  }

  /** Record `counter` (after authentication); false (and nothing changes) when it is a replay or too old. */
  accept(counter: number): boolean {
    if (!this.test(counter)) return false;
    if (counter > this.top) {
      const gap = counter - this.top;
      if (gap >= this.size || this.top < 0) this.bits.fill(0);
      else for (let c = this.top + 1; c < counter; c++) this.clear(c);
      this.top = counter;
      this.clear(counter);
    }
    const [word, mask] = this.slot(counter);
    this.bits[word] |= mask;
    return true;
  }

  private clear(counter: number): void {
    const [word, mask] = this.slot(counter);
    this.bits[word] &= ~mask;
  }
}
