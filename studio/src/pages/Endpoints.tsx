// Online endpoints: each with its traffic split, and one endpoint's health (router, deployments,
// restarts), read again every 5 s; for a user who may write, a form that moves the traffic
// (checked again by the server, as `trainyard endpoint traffic` is) and one that sends a test
// request through the server. Keys stay hidden until asked for, and a reader gets none.
import { useState } from "react";
import { getJson, postJson, sendJson, V1, type EndpointRecord, type EndpointView } from "../api";
import { requestBody, splitLine, trafficOf } from "../endpoints";
import { when } from "../format";
import { usePolled, useSubmit } from "../hooks";
import { href } from "../route";
import { ErrorLine } from "../components/ErrorLine";
import { StatusBadge } from "../components/StatusBadge";

const POLL_MS = 5000;

export function Endpoints() {
  const { value: list, error } = usePolled(
    () => getJson<{ endpoints: EndpointRecord[] }>(`${V1}/endpoints`).then((page) => page.endpoints),
    null,
    [],
  );
  return (
    <section>
      <h1>Endpoints</h1>
      <ErrorLine error={error} />
      {list && list.length === 0 && <p>No endpoints yet: `trainyard endpoint create NAME`.</p>}
      {list && list.length > 0 && (
        <table className="grid" data-testid="endpoints">
          <thead>
            <tr>
              <th>Name</th>
              <th>Traffic</th>
              <th>Port</th>
              <th>Router restarts</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.map((endpoint) => (
              <tr key={endpoint.name}>
                <td>
                  <a href={href({ page: "endpoint", name: endpoint.name })}>{endpoint.name}</a>
                </td>
                <td>{splitLine(endpoint.traffic)}</td>
                <td className="number">{endpoint.port}</td>
                <td className="number">{endpoint.restarts}</td>
                <td>{when(endpoint.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Keys({ keys }: { keys: EndpointView["keys"] }) {
  const [shown, setShown] = useState(false);
  if (!keys.primary) return <dd className="muted">hidden (only a contributor or an owner sees them)</dd>;
  return (
    <dd data-testid="keys">
      {shown ? (
        <span className="mono">
          {keys.primary} / {keys.secondary}
        </span>
      ) : (
        <span className="mono">•••••••• / ••••••••</span>
      )}{" "}
      <button type="button" className="small" onClick={() => setShown(!shown)}>
        {shown ? "Hide keys" : "Show keys"}
      </button>
    </dd>
  );
}

function TrafficForm({ view, onMoved }: { view: EndpointView; onMoved: () => void }) {
  const initial = () => Object.fromEntries(view.deployments.map((d) => [d.name, String(view.traffic[d.name] ?? 0)]));
  const [typed, setTyped] = useState<Record<string, string>>(initial);
  const { busy, error, submit: write } = useSubmit();
  const checked = trafficOf(typed);
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if ("problem" in checked) return;
    const path = `${V1}/online-endpoints/${encodeURIComponent(view.name)}/traffic`;
    write(() => sendJson("PUT", path, { traffic: checked.weights }), onMoved);
  };
  return (
    <form className="inline-form" onSubmit={submit} data-testid="traffic-form">
      {view.deployments.map((d) => (
        <label key={d.name}>
          {d.name}{" "}
          <input
            className="percent"
            aria-label={`traffic ${d.name}`}
            inputMode="numeric"
            value={typed[d.name] ?? ""}
            onChange={(e) => setTyped({ ...typed, [d.name]: e.target.value })}
          />
          %
        </label>
      ))}
      <button type="submit" disabled={busy || "problem" in checked}>
        Set traffic
      </button>
      {"problem" in checked && <span className="muted">{checked.problem}</span>}
      <ErrorLine error={error} />
    </form>
  );
}

function TestRequest({ view }: { view: EndpointView }) {
  const [text, setText] = useState("");
  const [deployment, setDeployment] = useState("");
  const [reply, setReply] = useState<{ status: number; reply: unknown } | null>(null);
  const { busy, error, submit: write } = useSubmit();
  const parsed = requestBody(text);
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if ("problem" in parsed) return;
    setReply(null);
    const path = `${V1}/online-endpoints/${encodeURIComponent(view.name)}/test`;
    write(() => postJson<{ status: number; reply: unknown }>(path, { body: parsed.body, deployment: deployment || null }), setReply);
  };
  return (
    <form className="test-request" onSubmit={submit}>
      <textarea
        aria-label="request body"
        rows={5}
        placeholder='{"data": [[5.1, 3.5, 1.4, 0.2]]}'
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="inline-form">
        <label>
          to{" "}
          <select aria-label="deployment" value={deployment} onChange={(e) => setDeployment(e.target.value)}>
            <option value="">the traffic split</option>
            {view.deployments.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || text.trim() === "" || "problem" in parsed}>
          Send
        </button>
        {text.trim() !== "" && "problem" in parsed && <span className="muted">{parsed.problem}</span>}
      </div>
      <ErrorLine error={error} />
      {reply && (
        <pre className={reply.status === 200 ? "reply" : "reply error"} data-testid="test-reply">
          {reply.status} {JSON.stringify(reply.reply, null, 2)}
        </pre>
      )}
    </form>
  );
}

export function Endpoint({ name, writer }: { name: string; writer: boolean }) {
  const { value: view, error, reload } = usePolled(
    () => getJson<EndpointView>(`${V1}/online-endpoints/${encodeURIComponent(name)}`),
    POLL_MS,
    [name],
  );
  const [moves, setMoves] = useState(0); // a new traffic form after each move, filled from the new split
  if (!view) return <ErrorLine error={error} />;
  return (
    <section>
      <nav className="crumbs">
        <a href={href({ page: "endpoints" })}>Endpoints</a> / {view.name}
      </nav>
      <h1>{view.name}</h1>
      <ErrorLine error={error} />
      <dl className="overview">
        <dt>Router</dt>
        <dd data-testid="router">
          <span className={`status status-${view.router === "up" ? "completed" : "failed"}`}>{view.router}</span>{" "}
          {view.router_restarts > 0 && <span className="muted">{view.router_restarts} restarts</span>}
        </dd>
        <dt>Scoring URI</dt>
        <dd className="mono">{view.scoring_uri}</dd>
        <dt>Keys</dt>
        <Keys keys={view.keys} />
        <dt>Traffic</dt>
        <dd data-testid="traffic">{splitLine(view.traffic)}</dd>
      </dl>
      <h2>Deployments</h2>
      {view.deployments.length === 0 && <p className="muted">No deployments.</p>}
      {view.deployments.length > 0 && (
        <table className="grid" data-testid="deployments">
          <thead>
            <tr>
              <th>Name</th>
              <th>Model</th>
              <th>Status</th>
              <th>Supervisor</th>
              <th>Restarts</th>
              <th>Workers</th>
              <th>Traffic</th>
              <th>Environment</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {view.deployments.map((d) => (
              <tr key={d.name} data-testid="deployment">
                <td>{d.name}</td>
                <td>
                  <a href={href({ page: "model", name: d.model.slice(0, d.model.lastIndexOf(":")) })}>{d.model}</a>
                </td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td>{d.supervisor}</td>
                <td className="number">{d.restarts}</td>
                <td className="number">{d.workers}</td>
                <td className="number">{view.traffic[d.name] ?? 0}%</td>
                <td>{d.environment ?? ""}</td>
                <td className="error">{d.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {writer && view.deployments.length > 0 && (
        <>
          <h2>Move traffic</h2>
          <TrafficForm
            key={moves}
            view={view}
            onMoved={() => {
              reload().then(() => setMoves((n) => n + 1));
            }}
          />
          <h2>Test request</h2>
          <TestRequest view={view} />
        </>
      )}
    </section>
  );
}
