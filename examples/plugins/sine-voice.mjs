// A synthesize plugin: an experimental backend ("plugin-sine-voice") that "speaks" 50 ms of a
// 440 Hz tone per character at 16 kHz, returning PCM and metadata.
export const manifest = { name: 'sine-voice', version: '1.0.0', apiVersion: '1', hooks: ['synthesize'], permissions: [] };

export function synthesize(segment) {
  const sampleRateHz = 16000;
  const pcm = new Float32Array(segment.text.length * 800);
  for (let index = 0; index < pcm.length; index++) pcm[index] = 0.3 * Math.sin((2 * Math.PI * 440 * index) / sampleRateHz);
  return { pcm, sampleRateHz, metadata: { phonemes: segment.text } };
}
