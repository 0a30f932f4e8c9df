// A transformText plugin: a custom markup, "<beat>", becomes our light markup's one-second pause.
export const manifest = { name: 'beat-markup', version: '1.0.0', apiVersion: '1', hooks: ['transformText'], permissions: [] };

export function transformText(text) {
  return text.replaceAll('<beat>', '[pause 1s]');
}
