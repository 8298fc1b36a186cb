// The run's log (logs/std_log.txt): read once, then, while the run runs, only its new bytes
// (a Range request from the size already shown) every 2 s.
import { useEffect, useRef, useState } from "react";
import { ApiError, artifactUrl, request } from "../api";

const MAX_SHOWN = 2_000_000; // characters kept on screen; older ones are dropped

export function LogTail({ logKey, live }: { logKey: string; live: boolean }) {
  const [text, setText] = useState("");
  const [missing, setMissing] = useState(false);
  const offset = useRef(0);
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    offset.current = 0;
    setText("");
    let stopped = false;
    const decoder = new TextDecoder();
    const poll = async () => {
      try {
        const response = await request(artifactUrl(logKey), { headers: { Range: `bytes=${offset.current}-` } });
        if (response.status === 416) return; // nothing new
        const chunk = new Uint8Array(await response.arrayBuffer());
        if (stopped) return;
        offset.current += chunk.length;
        const added = decoder.decode(chunk, { stream: true });
        setMissing(false);
        setText((before) => (before + added).slice(-MAX_SHOWN));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) setMissing(true);
      }
    };
    poll();
    const timer = live ? window.setInterval(poll, 2000) : undefined;
    return () => {
      stopped = true;
      if (timer !== undefined) window.clearInterval(timer);
    };
  }, [logKey, live]);

  useEffect(() => {
    const element = pre.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [text]);

  if (missing && !text) return <p className="muted">No log yet.</p>;
  return (
    <pre className="log" ref={pre} data-testid="log">
      {text}
    </pre>
  );
}
