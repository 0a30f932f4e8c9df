/**
 * The watermark message's error-correcting code: the 56 information bits (32-bit payload and a
 * keyed CRC-24) plus 6 zero tail bits go through the standard rate-1/2, constraint-length-7
 * convolutional code (generators 171 and 133 octal), 124 coded bits in all, one per frame. The
 * detector decodes with a soft-decision Viterbi search over the 64 encoder states, so raw frame
 * errors of 10 % and more are corrected, and checks the CRC: one codeword per candidate, so a
 * random candidate passes with probability 2^-24.
 */
import { CODE_MEMORY, CRC_BITS, crc24, MESSAGE_BITS, PAYLOAD_BITS, type WatermarkKeyMaterial } from './watermark-layout.js';

/** Information bits: payload then masked CRC. */
export const INFO_BITS = PAYLOAD_BITS + CRC_BITS;
/** Encoder memory (constraint length 7). */
const MEMORY = CODE_MEMORY;
const STATES = 1 << MEMORY;
const GENERATORS = [0o171, 0o133] as const;
/** Coded bits per message: two per information or tail bit. */
export const CODED_BITS = MESSAGE_BITS;

function parity(value: number): number {
  let bits = value;
  bits ^= bits >> 4;
  bits ^= bits >> 2;
  bits ^= bits >> 1;
  return bits & 1;
}

/** The two output bits of the encoder in `state` (the last 6 inputs, newest in bit 5) for `input`. */
function outputs(state: number, input: number): [number, number] {
  const register = (input << MEMORY) | state;
  return [parity(register & GENERATORS[0]), parity(register & GENERATORS[1])];
}

/** The information bits of a payload under a key: the payload (MSB first), then its CRC-24 XOR the key's mask. */
export function infoBits(payload: number, material: WatermarkKeyMaterial): Uint8Array {
  const bits = new Uint8Array(INFO_BITS);
  for (let i = 0; i < PAYLOAD_BITS; i++) bits[i] = (payload >>> (PAYLOAD_BITS - 1 - i)) & 1;
  const crc = crc24(payload) ^ material.crcMask;
  for (let i = 0; i < CRC_BITS; i++) bits[PAYLOAD_BITS + i] = (crc >>> (CRC_BITS - 1 - i)) & 1;
  return bits;
}

/** Convolutionally encodes information bits (zero-terminated): 2·(length + 6) coded bits. */
export function encode(info: Uint8Array): Uint8Array {
  const coded = new Uint8Array(2 * (info.length + MEMORY));
  let state = 0;
  for (let t = 0; t < info.length + MEMORY; t++) {
    const input = t < info.length ? info[t]! : 0;
    const [first, second] = outputs(state, input);
    coded[2 * t] = first;
    coded[2 * t + 1] = second;
    state = ((input << MEMORY) | state) >> 1;
  }
  return coded;
}

/** The coded message frames carry for a payload under a key (CODED_BITS long). */
export function codedMessage(payload: number, material: WatermarkKeyMaterial): Uint8Array {
  return encode(infoBits(payload, material));
}

/** What the Viterbi search found: the most likely information bits and their path metric (Σ soft·sign). */
export interface ViterbiResult {
  info: Uint8Array;
  metric: number;
}

/**
 * Soft-decision Viterbi decoding of CODED_BITS soft values (positive means 0, the magnitude is
 * the confidence, 0 an erasure), zero-terminated: the most likely information bits.
 */
export function viterbi(soft: Float64Array): ViterbiResult {
  const steps = soft.length / 2;
  let metric = new Float64Array(STATES).fill(-Infinity);
  let next = new Float64Array(STATES);
  metric[0] = 0;
  const fromState = new Uint8Array(steps * STATES);
  const fromInput = new Uint8Array(steps * STATES);
  for (let t = 0; t < steps; t++) {
    next.fill(-Infinity);
    const first = soft[2 * t]!;
    const second = soft[2 * t + 1]!;
    const inputs = t < steps - MEMORY ? 2 : 1;
    for (let state = 0; state < STATES; state++) {
      const base = metric[state]!;
      if (base === -Infinity) continue;
      for (let input = 0; input < inputs; input++) {
        const [a, b] = outputs(state, input);
        const value = base + (a ? -first : first) + (b ? -second : second);
        const target = ((input << MEMORY) | state) >> 1;
        if (value > next[target]!) {
          next[target] = value;
          fromState[t * STATES + target] = state;
          fromInput[t * STATES + target] = input;
        }
      }
    }
    [metric, next] = [next, metric];
  }
  const info = new Uint8Array(steps - MEMORY);
  let state = 0;
  for (let t = steps - 1; t >= 0; t--) {
    const input = fromInput[t * STATES + state]!;
    if (t < info.length) info[t] = input;
    state = fromState[t * STATES + state]!;
  }
  return { info, metric: metric[0]! };
}

/**
 * The payload of decoded information bits when its keyed CRC checks, else null. `checkBits` <
 * CRC_BITS compares only the CRC's first bits (the bench confirms the false-positive model with it).
 */
export function checkedPayload(info: Uint8Array, material: WatermarkKeyMaterial, checkBits = CRC_BITS): number | null {
  let payload = 0;
  for (let i = 0; i < PAYLOAD_BITS; i++) payload = ((payload << 1) | info[i]!) >>> 0;
  let crc = 0;
  for (let i = 0; i < CRC_BITS; i++) crc = (crc << 1) | info[PAYLOAD_BITS + i]!;
  const shift = CRC_BITS - checkBits;
  return (crc ^ material.crcMask) >>> shift === crc24(payload) >>> shift ? payload : null;
}
