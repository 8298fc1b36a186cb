import { useCallback, useEffect, useState } from "react";
import { ApiError, canWrite, getJson, savedToken, saveToken, V1 } from "./api";
import { Login } from "./pages/Login";
import { Experiments } from "./pages/Experiments";
import { Runs } from "./pages/Runs";
import { RunDetail } from "./pages/RunDetail";
import { Compare } from "./pages/Compare";
import { Model, Models } from "./pages/Models";
import { Endpoint, Endpoints } from "./pages/Endpoints";
import { Designer } from "./pages/Designer";
import { href, useRoute } from "./route";

interface Whoami {
  user: string;
  role: string;
  kind: string;
}

export function App() {
  const route = useRoute();
  const [who, setWho] = useState<Whoami | null | "checking">("checking");
  const [error, setError] = useState<string | null>(null);

  const check = useCallback(() => {
    getJson<Whoami>(`${V1}/auth/whoami`)
      .then((w) => {
        setWho(w);
        setError(null);
      })
      .catch((e: unknown) => {
        setWho(null);
        if (e instanceof ApiError && e.status === 401) {
          // a token this tab holds that the server refuses (revoked, expired, mistyped) is dropped
          if (savedToken()) setError(`the server refused the token: ${e.message}`);
          saveToken(null);
        } else {
          setError(String(e instanceof Error ? e.message : e));
        }
      });
  }, []);
  useEffect(check, [check]);

  if (who === "checking") return <main className="page">…</main>;
  if (who === null)
    return (
      <Login
        error={error}
        onToken={(token) => {
          saveToken(token);
          check();
        }}
      />
    );
  return (
    <>
      <header className="bar">
        <a className="brand" href={href({ page: "experiments" })}>
          trainyard studio
        </a>
        <nav>
          <a href={href({ page: "experiments" })}>Experiments</a>
          <a href={href({ page: "models" })}>Models</a>
          <a href={href({ page: "endpoints" })}>Endpoints</a>
          <a href={href({ page: "designer" })}>Designer</a>
        </nav>
        <span className="who" data-testid="who">
          {who.user} ({who.role})
        </span>
        {savedToken() && (
          <button
            type="button"
            onClick={() => {
              saveToken(null);
              setWho(null);
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main className="page">
        {route.page === "experiments" && <Experiments />}
        {route.page === "runs" && <Runs experimentId={route.experimentId} writer={canWrite(who.role)} />}
        {route.page === "run" && <RunDetail runId={route.runId} writer={canWrite(who.role)} />}
        {route.page === "compare" && <Compare runIds={route.runIds} />}
        {route.page === "models" && <Models />}
        {route.page === "model" && <Model name={route.name} writer={canWrite(who.role)} />}
        {route.page === "endpoints" && <Endpoints />}
        {route.page === "endpoint" && <Endpoint name={route.name} writer={canWrite(who.role)} />}
        {route.page === "designer" && <Designer />}
      </main>
    </>
  );
}
