/**
 * The watermark message's error-correcting code: the 56 information bits (32-bit payload and a
 * keyed CRC-24) go through the standard rate-1/2, constraint-length-7 convolutional code
 * (generators 171 and 133 octal), *tail-biting* (the encoder starts in the state its last six
 * inputs leave it in, so no tail bits are spent): 112 coded bits, one per frame. The message is
 * repeated end to end, so the detector sees the codeword as a circle and decodes it with a
 * soft-decision Viterbi search over the circle extended by WRAP steps on each side (the
 * wrap-around approximation of tail-biting decoding), and checks the CRC: one codeword per
 * candidate, so a random candidate passes with probability 2^-24.
 */
import { CRC_BITS, crc24, MESSAGE_BITS, PAYLOAD_BITS, type WatermarkKeyMaterial } from './watermark-layout.js';

/** Information bits: payload then masked CRC. */
export const INFO_BITS = PAYLOAD_BITS + CRC_BITS;
/** Encoder memory (constraint length 7). */
const MEMORY = 6;
const STATES = 1 << MEMORY;
const GENERATORS = [0o171, 0o133] as const;
/** Coded bits per message: two per information bit (tail-biting: no tail). */
export const CODED_BITS = MESSAGE_BITS;
/** Trellis steps the circular Viterbi search runs before and after the message (five constraint lengths). */
const WRAP = 36;

function parity(value: number): number {
  let bits = value;
  bits ^= bits >> 4;
  bits ^= bits >> 2;
  bits ^= bits >> 1;
  return bits & 1;
}

/** The two output bits of every (state, input) pair, state = the last 6 inputs (newest in bit 5): index 2·state + input. */
const OUTPUT_FIRST = new Uint8Array(2 * STATES);
const OUTPUT_SECOND = new Uint8Array(2 * STATES);
for (let state = 0; state < STATES; state++) {
  for (let input = 0; input < 2; input++) {
    const register = (input << MEMORY) | state;
    OUTPUT_FIRST[2 * state + input] = parity(register & GENERATORS[0]);
    OUTPUT_SECOND[2 * state + input] = parity(register & GENERATORS[1]);
  }
}

/** The information bits of a payload under a key: the payload (MSB first), then its CRC-24 XOR the key's mask. */
export function infoBits(payload: number, material: WatermarkKeyMaterial): Uint8Array {
  const bits = new Uint8Array(INFO_BITS);
  for (let i = 0; i < PAYLOAD_BITS; i++) bits[i] = (payload >>> (PAYLOAD_BITS - 1 - i)) & 1;
  const crc = crc24(payload) ^ material.crcMask;
  for (let i = 0; i < CRC_BITS; i++) bits[PAYLOAD_BITS + i] = (crc >>> (CRC_BITS - 1 - i)) & 1;
  return bits;
}

/** Convolutionally encodes information bits, tail-biting (at least 6 of them): 2·length coded bits. */
export function encode(info: Uint8Array): Uint8Array {
  const coded = new Uint8Array(2 * info.length);
  // The start state is the one the last MEMORY inputs leave: the encoder ends where it began.
  let state = 0;
  for (let t = info.length - MEMORY; t < info.length; t++) state = ((info[t]! << MEMORY) | state) >> 1;
  for (let t = 0; t < info.length; t++) {
    const input = info[t]!;
    coded[2 * t] = OUTPUT_FIRST[2 * state + input]!;
    coded[2 * t + 1] = OUTPUT_SECOND[2 * state + input]!;
    state = ((input << MEMORY) | state) >> 1;
  }
  return coded;
}

/** The coded message frames carry for a payload under a key (CODED_BITS long). */
export function codedMessage(payload: number, material: WatermarkKeyMaterial): Uint8Array {
  return encode(infoBits(payload, material));
}

/** What the Viterbi search found: the most likely information bits and their path metric (Σ soft·sign over the message's own steps). */
export interface ViterbiResult {
  info: Uint8Array;
  metric: number;
}

/**
 * Soft-decision Viterbi decoding of a tail-biting codeword's soft values (positive means 0, the
 * magnitude is the confidence, 0 an erasure): the search runs over the circle of steps extended
 * by WRAP steps on each side, starting from every state at once, and keeps the information bits
 * of the middle lap.
 */
export function viterbi(soft: Float64Array): ViterbiResult {
  const steps = soft.length / 2;
  const total = steps + 2 * WRAP;
  let metric = new Float64Array(STATES);
  let next = new Float64Array(STATES);
  const fromState = new Uint8Array(total * STATES);
  const fromInput = new Uint8Array(total * STATES);
  for (let u = 0; u < total; u++) {
    const t = (((u - WRAP) % steps) + steps) % steps;
    next.fill(-Infinity);
    const first = soft[2 * t]!;
    const second = soft[2 * t + 1]!;
    for (let state = 0; state < STATES; state++) {
      const base = metric[state]!;
      for (let input = 0; input < 2; input++) {
        const index = 2 * state + input;
        const value = base + (OUTPUT_FIRST[index] ? -first : first) + (OUTPUT_SECOND[index] ? -second : second);
        const target = ((input << MEMORY) | state) >> 1;
        if (value > next[target]!) {
          next[target] = value;
          fromState[u * STATES + target] = state;
          fromInput[u * STATES + target] = input;
        }
      }
    }
    [metric, next] = [next, metric];
  }
  let state = 0;
  for (let candidate = 1; candidate < STATES; candidate++) if (metric[candidate]! > metric[state]!) state = candidate;
  const info = new Uint8Array(steps);
  for (let u = total - 1; u >= WRAP; u--) {
    const input = fromInput[u * STATES + state]!;
    if (u < WRAP + steps) info[u - WRAP] = input;
    state = fromState[u * STATES + state]!;
  }
  return { info, metric: pathMetric(soft, info) };
}

/** Σ soft·sign of the tail-biting codeword of `info` (the agreement the candidates are ranked by). */
function pathMetric(soft: Float64Array, info: Uint8Array): number {
  const coded = encode(info);
  let metric = 0;
  for (let i = 0; i < coded.length; i++) metric += coded[i] ? -soft[i]! : soft[i]!;
  return metric;
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
