/**
 * The watermark detector's FFT: an in-place iterative radix-2 complex FFT for any power-of-two
 * length, with the bit-reversal permutation and twiddles cached per length (a few MB at 2^20).
 * `fft(re, im)` is the forward transform (e^-i), `ifft` the inverse including the 1/n scale.
 */

interface Plan {
  reversed: Uint32Array;
  cos: Float64Array;
  sin: Float64Array;
}

const plans = new Map<number, Plan>();

function planFor(size: number): Plan {
  let plan = plans.get(size);
  if (!plan) {
    const bits = Math.round(Math.log2(size));
    if (2 ** bits !== size) throw new RangeError(`fft: length ${size} is not a power of two`);
    const reversed = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let value = 0;
      for (let bit = 0; bit < bits; bit++) value |= ((i >> bit) & 1) << (bits - 1 - bit);
      reversed[i] = value;
    }
    const cos = Float64Array.from({ length: size / 2 }, (_, k) => Math.cos((2 * Math.PI * k) / size));
    const sin = Float64Array.from({ length: size / 2 }, (_, k) => Math.sin((2 * Math.PI * k) / size));
    plan = { reversed, cos, sin };
    plans.set(size, plan);
  }
  return plan;
}

function transform(re: Float64Array, im: Float64Array, sign: 1 | -1): void {
  const size = re.length;
  const { reversed, cos, sin } = planFor(size);
  for (let i = 0; i < size; i++) {
    const j = reversed[i]!;
    if (i < j) {
      const r = re[i]!;
      re[i] = re[j]!;
      re[j] = r;
      const m = im[i]!;
      im[i] = im[j]!;
      im[j] = m;
    }
  }
  for (let length = 2; length <= size; length <<= 1) {
    const half = length >> 1;
    const stride = size / length;
    for (let start = 0; start < size; start += length) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride]!;
        const wi = sign * sin[k * stride]!;
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** Forward FFT in place (X_k = Σ x_n e^{-2πikn/N}); the length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  transform(re, im, -1);
}

/** Inverse FFT in place, scaled by 1/N (so ifft(fft(x)) = x). */
export function ifft(re: Float64Array, im: Float64Array): void {
  transform(re, im, 1);
  const scale = 1 / re.length;
  for (let i = 0; i < re.length; i++) {
    re[i] = re[i]! * scale;
    im[i] = im[i]! * scale;
  }
}

/** The smallest power of two at least `length`. */
export function nextPowerOfTwo(length: number): number {
  let size = 1;
  while (size < length) size <<= 1;
  return size;
}
