// An onGraph plugin: proposes a 700 ms pause after the first spoken node and a DSP hint on the graph.
// The engine applies the proposal only through the registrar (mutate_graph as plugin:breathe),
// which allows it only when the stream's owner granted it (loadPlugin(..., { grant: ['mutate_graph'] })).
export const manifest = { name: 'breathe', version: '1.0.0', apiVersion: '1', hooks: ['onGraph'], permissions: ['mutate_graph'] };

export function onGraph(graph) {
  const first = graph.nodes.find((node) => node.type === 'text');
  if (!first) return [];
  return [
    { op: 'add_pause', afterNodeId: first.id, durationMs: 700 },
    { op: 'annotate', key: 'dsp', value: { hint: 'warm' } },
  ];
}
