// Hash routes (#/…), so that the page works wherever the server mounts it.
import { useEffect, useState } from "react";

export type Route =
  | { page: "experiments" }
  | { page: "runs"; experimentId: string }
  | { page: "run"; runId: string }
  | { page: "compare"; runIds: string[] }
  | { page: "models" }
  | { page: "model"; name: string }
  | { page: "endpoints" }
  | { page: "endpoint"; name: string }
  | { page: "designer" };

export function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "experiments" && parts[1]) return { page: "runs", experimentId: parts[1] };
  if (parts[0] === "runs" && parts[1]) return { page: "run", runId: parts[1] };
  if (parts[0] === "compare" && parts[1]) return { page: "compare", runIds: parts[1].split(",").filter(Boolean) };
  if (parts[0] === "models") return parts[1] ? { page: "model", name: parts[1] } : { page: "models" };
  if (parts[0] === "endpoints") return parts[1] ? { page: "endpoint", name: parts[1] } : { page: "endpoints" };
  if (parts[0] === "designer") return { page: "designer" };
  return { page: "experiments" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "experiments":
      return "#/";
    case "runs":
      return `#/experiments/${encodeURIComponent(route.experimentId)}`;
    case "run":
      return `#/runs/${encodeURIComponent(route.runId)}`;
    case "compare":
      return `#/compare/${route.runIds.map(encodeURIComponent).join(",")}`;
    case "models":
      return "#/models";
    case "model":
      return `#/models/${encodeURIComponent(route.name)}`;
    case "endpoints":
      return "#/endpoints";
    case "endpoint":
      return `#/endpoints/${encodeURIComponent(route.name)}`;
    case "designer":
      return "#/designer";
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parse(window.location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
