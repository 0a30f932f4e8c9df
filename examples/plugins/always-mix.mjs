// An onSchedule plugin: proposes that a play mixes with what is playing instead of queueing behind it.
export const manifest = { name: 'always-mix', version: '1.0.0', apiVersion: '1', hooks: ['onSchedule'], permissions: [] };

export function onSchedule(queue) {
  return queue.schedule.active.length > 0 ? { policy: 'mix' } : null;
}
