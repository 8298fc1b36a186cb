// The two shapes every page repeats: data read from the server (once, or again every few
// seconds while it can change), and a form's write (busy while it runs, its error kept).
import { useCallback, useEffect, useState, type DependencyList } from "react";

export interface Loaded<T> {
  value: T | null;
  error: unknown;
  reload: () => Promise<void>;
}

// ``load()`` when ``deps`` change, and again every ``everyMs`` while that is not null.
export function usePolled<T>(load: () => Promise<T>, everyMs: number | null, deps: DependencyList): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `deps` are what `load` reads
  const reload = useCallback(() => load().then(setValue, setError), deps);
  useEffect(() => {
    reload();
    if (everyMs === null) return;
    const timer = window.setInterval(reload, everyMs);
    return () => window.clearInterval(timer);
  }, [reload, everyMs]);
  return { value, error, reload };
}

export interface Submit {
  busy: boolean;
  error: unknown;
  // runs ``write``; ``then`` gets its answer when it succeeds, the error is kept when it fails
  submit: <T>(write: () => Promise<T>, then: (answer: T) => void) => void;
}

export function useSubmit(): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = <T,>(write: () => Promise<T>, then: (answer: T) => void) => {
    setBusy(true);
    write()
      .then((answer) => {
        setError(null);
        then(answer);
      }, setError)
      .finally(() => setBusy(false));
  };
  return { busy, error, submit };
}
