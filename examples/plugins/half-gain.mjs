// An onAudio plugin: a fixed -6 dB gain on every chunk (it gets a copy; it returns as many finite samples).
export const manifest = { name: 'half-gain', version: '1.0.0', apiVersion: '1', hooks: ['onAudio'], permissions: [] };

export function onAudio(chunk) {
  const out = new Float32Array(chunk.pcm.length);
  for (let index = 0; index < out.length; index++) out[index] = chunk.pcm[index] * 0.5;
  return out;
}
