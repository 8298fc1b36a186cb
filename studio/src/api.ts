// REST API v1 as the studio reads it. Credentials: a token the user gave (a team server; kept
// in this tab's sessionStorage and sent as Authorization: Bearer), or the cookie that
// `trainyard studio` set for this browser (sent by the browser itself, same origin only).

const TOKEN_KEY = "trainyard.token";
export const V1 = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = savedToken();
  // the studio's own header: a write from the local session must carry it (server/auth.py)
  const base: Record<string, string> = { "X-Trainyard-Studio": "1", ...extra };
  if (token) base.Authorization = `Bearer ${token}`;
  return base;
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, {
    ...init,
    credentials: "same-origin",
    headers: headers((init.headers as Record<string, string>) ?? {}),
  });
  if (!response.ok && response.status !== 206 && response.status !== 416) {
    let code = "ERROR";
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      code = body.error_code ?? code;
      message = body.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, code, message);
  }
  return response;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return sendJson<T>("POST", path, body);
}

export async function sendJson<T>(method: "POST" | "PUT" | "PATCH", path: string, body: unknown): Promise<T> {
  const response = await request(path, {
    method,
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  return response.json() as Promise<T>;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  return search.toString();
}

// records as the server sends them (trainyard.api.schemas.to_json of the store's dataclasses)
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

export interface Experiment {
  id: string;
  name: string;
  created_at: number;
  tags: Record<string, string>;
  deleted: boolean;
}

// who a run is for: a team server records its caller on every run, a child has its parent's
export const USER_TAG = "mlflow.user";

export interface Run {
  id: string;
  experiment_id: string;
  name: string;
  status: string;
  created_at: number;
  parent_id: string | null;
  start_time: number | null;
  end_time: number | null;
  compute: string | null;
  environment: string | null;
  error: string | null;
  exit_code: number | null;
  attempt: number;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: Record<string, JsonFloat>;
  job?: JobRecord | null; // what was submitted: a pipeline's steps, a sweep's objective
}

// the parts of a submitted job's record the pages read (compute/job.py, pipelines/record.py,
// sweep/spec.py)
export interface JobRecord {
  type?: string; // "command", "sweep", "automl" or "pipeline"
  steps?: Record<string, { needs?: string[]; display_name?: string | null; component?: string | null }>;
  layers?: string[][];
  sweep?: { objective: { primary_metric: string; goal: "maximize" | "minimize" } };
}

export interface RunPage {
  runs: Run[];
  next_page_token: string | null;
}

export interface Series {
  key: string;
  total: number;
  exact: boolean;
  steps: number[];
  values: JsonFloat[];
  timestamps: number[];
}

export const TERMINAL = new Set(["completed", "failed", "canceled"]);

export function runArtifacts(runId: string): string {
  return `runs/${runId}`;
}

export function artifactUrl(key: string): string {
  return `${V1}/artifacts/${key.split("/").map(encodeURIComponent).join("/")}`;
}

// a user who may write (a contributor or an owner; `trainyard studio`'s own user is an owner):
// the pages show write controls to them only, and the server refuses the others anyway
export function canWrite(role: string): boolean {
  return role === "contributor" || role === "owner";
}

export interface RegisteredModel {
  name: string;
  created_at: number;
  latest_version: number;
  description: string | null;
  aliases: Record<string, number>;
  tags: Record<string, string>;
}

export interface ModelVersion {
  name: string;
  version: number;
  source: string;
  files: string[];
  status: string;
  created_at: number;
  run_id: string | null;
  description: string | null;
  tags: Record<string, string>;
  aliases: string[];
}

export interface EndpointRecord {
  name: string;
  created_at: number;
  port: number;
  primary_key: string; // "" for a user who may not see keys
  secondary_key: string;
  traffic: Record<string, number>;
  restarts: number;
}

// GET /online-endpoints/{name}: the endpoint as `trainyard endpoint show` prints it
export interface EndpointView {
  name: string;
  scoring_uri: string;
  openapi_uri: string;
  router: "up" | "down";
  router_restarts: number;
  keys: { primary: string; secondary: string };
  traffic: Record<string, number>;
  deployments: {
    name: string;
    model: string;
    status: string;
    workers: number;
    restarts: number;
    request_timeout: number | null;
    environment: string | null;
    error: string | null;
    supervisor: "up" | "down";
  }[];
}

// every child run of a parent (a pipeline's steps, a sweep's trials), page by page
export async function childRuns(parentId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let token: string | null = null;
  do {
    const page: RunPage = await postJson<RunPage>(`${V1}/runs/search`, {
      parent_id: parentId,
      max_results: 1000,
      page_token: token,
    });
    runs.push(...page.runs);
    token = page.next_page_token;
  } while (token);
  return runs;
}
