"""``trainyard endpoint …`` and ``trainyard deployment …``: online scoring, on this machine or, in a
server workspace, on the server."""

from __future__ import annotations

from pathlib import Path

import typer

from trainyard.cli.output import Format, console, print_json, table

endpoint_app = typer.Typer(help="Online endpoints: a stable scoring URL with keys.", no_args_is_help=True)
deployment_app = typer.Typer(
    help="Deployments: a model version serving behind an endpoint.", no_args_is_help=True
)


def _ws():  # noqa: ANN202
    from trainyard.workspace import Workspace

    return Workspace.from_config()


def _print_endpoint(info: dict) -> None:
    rows = [
        ["endpoint", info["name"]],
        ["scoring URI", info["scoring_uri"]],
        ["OpenAPI", info["openapi_uri"]],
        ["router", f"{info['router']} ({info['router_restarts']} restarts)"],
        ["primary key", info["keys"]["primary"]],
        ["secondary key", info["keys"]["secondary"]],
        ["traffic", ", ".join(f"{k}={v}" for k, v in info["traffic"].items()) or "-"],
    ]
    console.print(table(None, ["", ""], rows))
    if info["deployments"]:
        console.print(
            table(
                "deployments",
                [
                    "name",
                    "model",
                    "environment",
                    "status",
                    "workers",
                    "timeout",
                    "restarts",
                    "supervisor",
                    "error",
                ],
                [
                    [
                        d["name"],
                        d["model"],
                        d["environment"] or "-",
                        d["status"],
                        d["workers"],
                        f"{d['request_timeout']:g}s" if d["request_timeout"] else "-",
                        d["restarts"],
                        d["supervisor"],
                        d["error"] or "",
                    ]
                    for d in info["deployments"]
                ],
            )
        )


@endpoint_app.command("create")
def create(
    name: str,
    port: int = typer.Option(None, min=1, max=65535, help="Port to listen on (default: a free one)."),
) -> None:
    """Create an endpoint and start its router (on 127.0.0.1; in a server workspace, on the server)."""
    from trainyard.serving import endpoints

    ws = _ws()
    endpoints.create_endpoint(ws, name, port)
    _print_endpoint(endpoints.describe(ws, name))


@endpoint_app.command("list")
def list_endpoints(output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """Endpoints with their traffic and router state."""
    from trainyard.serving import endpoints

    ws = _ws()
    infos = [endpoints.describe(ws, e.name) for e in ws.store.list_endpoints()]
    if output == Format.json:
        print_json(infos)
        return
    console.print(
        table(
            None,
            ["name", "scoring URI", "router", "traffic"],
            [
                [
                    i["name"],
                    i["scoring_uri"],
                    i["router"],
                    ", ".join(f"{k}={v}" for k, v in i["traffic"].items()) or "-",
                ]
                for i in infos
            ],
        )
    )


@endpoint_app.command("show")
def show(name: str, output: Format = typer.Option(Format.table, "--output", "-o")) -> None:
    """Scoring URI, keys, OpenAPI URL, traffic and deployments."""
    from trainyard.serving import endpoints

    info = endpoints.describe(_ws(), name)
    print_json(info) if output == Format.json else _print_endpoint(info)


@endpoint_app.command("traffic")
def traffic(
    name: str, weights: list[str] = typer.Argument(..., help="DEPLOYMENT=PERCENT …, adding up to 100")
) -> None:
    """Split the endpoint's traffic: `trainyard endpoint traffic diabetes blue=90 green=10`."""
    from trainyard.errors import InvalidInputError
    from trainyard.serving import endpoints

    parsed = {}
    for item in weights:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise InvalidInputError(f"{item!r}: write DEPLOYMENT=PERCENT, e.g. blue=90")
        parsed[key] = int(value)
    record = endpoints.set_traffic(_ws(), name, parsed)
    console.print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in record.traffic.items()))


@endpoint_app.command("rollback")
def rollback(name: str) -> None:
    """Put the traffic back as it was before the last change."""
    from trainyard.serving import endpoints

    record = endpoints.rollback(_ws(), name)
    console.print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in record.traffic.items()))


@endpoint_app.command("invoke")
def invoke(
    name: str,
    data: Path = typer.Option(..., "--data", "-d", help="JSON request body file."),
    deployment: str = typer.Option(None, help="Send to this deployment only."),
    path: str = typer.Option("/score", help="/score, /invocations or /v2/models/NAME/infer"),
) -> None:
    """Call the endpoint with the primary key and print the reply."""
    from trainyard.errors import InvalidInputError
    from trainyard.serving import endpoints

    if not data.is_file():
        raise InvalidInputError(f"request file {data} does not exist")
    status, reply = endpoints.invoke(_ws(), name, data.read_bytes(), deployment, path)
    print_json(reply)
    if status >= 400:
        raise typer.Exit(1)


@endpoint_app.command("regenerate-keys")
def regenerate_keys(name: str, key_type: str = typer.Option("primary", help="primary or secondary")) -> None:
    """Replace one key; the other keeps working meanwhile."""
    from trainyard.serving import endpoints

    record = endpoints.regenerate_key(_ws(), name, key_type)
    console.print(f"{key_type} key: {getattr(record, key_type + '_key')}")


@endpoint_app.command("logs")
def logs(
    name: str, deployment: str = typer.Option(None, help="A deployment's log instead of the router's.")
) -> None:
    """The router's or a deployment's log."""
    from trainyard.serving import endpoints

    print(endpoints.endpoint_log(_ws(), name, deployment))


@endpoint_app.command("delete")
def delete(name: str) -> None:
    """Stop the endpoint and every deployment behind it."""
    from trainyard.serving import endpoints

    endpoints.delete_endpoint(_ws(), name)
    console.print(f"endpoint {name} deleted")


@deployment_app.command("create")
def deployment_create(
    name: str = typer.Argument(None, help="The deployment's name (or name: in --file)."),
    endpoint: str = typer.Option(
        None, "--endpoint", "-e", help="The endpoint (or endpoint_name: in --file)."
    ),
    model: str = typer.Option(None, "--model", "-m", help="name:VERSION or name@ALIAS"),
    many_models: str = typer.Option(
        None, "--many-models", help="Serve this many-models group (its model name) instead of one version."
    ),
    max_models_in_memory: int = typer.Option(
        None, min=1, help="With --many-models: models kept loaded per worker (default 16)."
    ),
    workers: int = typer.Option(None, min=1, help="Scoring worker processes (default 1)."),
    entry_script: Path = typer.Option(None, help="An Azure-style score.py with init() and run(raw_data)."),
    environment: str = typer.Option(
        None, "--environment", help="NAME[:VERSION] of a registered environment to score in."
    ),
    request_timeout: float = typer.Option(
        None, help="Seconds a prediction may take before the request gets a 504 (default 60)."
    ),
    file: Path = typer.Option(
        None, "--file", "-f", help="A deployment YAML (Azure's online deployment keys); options override it."
    ),
) -> None:
    """Start a model version behind an endpoint (it takes traffic once you give it some)."""
    from trainyard.errors import InvalidInputError
    from trainyard.serving import endpoints
    from trainyard.serving.deployment_spec import DeploymentSpec, load_deployment

    spec = load_deployment(file) if file else DeploymentSpec()
    if model and many_models:
        raise InvalidInputError("give --model (one version) or --many-models (a group), not both")
    group = many_models or (None if model else spec.many_models and spec.many_models.model_name)
    named = {
        "NAME": name or spec.name,
        "--endpoint": endpoint or spec.endpoint_name,
        "--model": group or model or spec.model,
    }
    for what, value in named.items():
        if not value:
            raise InvalidInputError(f"give the deployment's {what} (or write it in the --file YAML)")
    name, endpoint, model = (str(v) for v in named.values())
    if max_models_in_memory is not None and not group:
        raise InvalidInputError("--max-models-in-memory is for a --many-models deployment")
    in_memory = max_models_in_memory or (spec.many_models.max_models_in_memory if spec.many_models else None)
    with console.status(f"starting deployment {name}…"):
        record = endpoints.create_deployment(
            _ws(),
            endpoint,
            name,
            model,
            workers or spec.workers or 1,
            entry_script=entry_script or spec.entry_script,
            request_timeout=request_timeout or spec.request_timeout or endpoints.DEFAULT_REQUEST_TIMEOUT,
            environment=environment or spec.environment,
            many_models=bool(group),
            max_models_in_memory=in_memory if group else None,
        )
    where = f" in environment {record.environment}" if record.environment else ""
    served = (
        f"many models {record.model_name} (up to {record.max_models_in_memory} in memory)"
        if record.serves_group
        else f"{record.model_name}:{record.model_version}"
    )
    console.print(f"deployment {name} ready: {served} on {endpoint}{where}")


@deployment_app.command("delete")
def deployment_delete(name: str, endpoint: str = typer.Option(..., "--endpoint", "-e")) -> None:
    """Stop a deployment that takes no traffic."""
    from trainyard.serving import endpoints

    endpoints.delete_deployment(_ws(), endpoint, name)
    console.print(f"deployment {name} deleted")
