// Undo/redo over whole draft snapshots (drafts are small; snapshots keep it obviously right).

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

export function start<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/** A new present; redo is lost, as in every editor. */
export function push<T>(h: History<T>, next: T): History<T> {
  if (next === h.present) return h;
  return { past: [...h.past, h.present], present: next, future: [] };
}

export function undo<T>(h: History<T>): History<T> {
  if (!h.past.length) return h;
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  if (!h.future.length) return h;
  return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1) };
}
