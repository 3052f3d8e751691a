"""`policy serve`: the REST API and the browser workbench."""
from __future__ import annotations

import os

import click

from cadre_policy.cli.common import Failure, engine_option, load_policies, policies_option, policy_dir


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but 127.0.0.1/::1/localhost must be asked for.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@policies_option
@engine_option
@click.option("--whatif-workers", type=click.IntRange(1),
              help="Worker processes of a what-if job (default: all cores, as policy whatif).")
@click.option("--job-time-limit", type=click.FloatRange(0.1), default=1800, show_default=True, metavar="SECONDS",
              help="A what-if job still running after this long is stopped.")
@click.option("--max-jobs", type=click.IntRange(1), default=8, show_default=True,
              help="Unfinished what-if jobs at once (each user: at most 2); more are refused (429).")
@click.pass_context
def serve(ctx, host, port, policies_dir, engine, whatif_workers, job_time_limit, max_jobs):
    """Serve the decision API (/api/v1) and the workbench pages."""
    import uvicorn
    from cadre_policy.serve.app import create_app
    from cadre_policy.serve.state import Config
    directory = os.path.abspath(policy_dir(policies_dir))
    load_policies(directory)          # a broken policy set stops here, with its diagnostics
    app = create_app(Config(ctx.find_root().obj["db_url"], directory, engine, whatif_workers,
                            job_seconds=job_time_limit, max_jobs=max_jobs))
    if host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(f"warning: listening on {host}: reachable from other machines", err=True)
    try:
        # bounded: an idle kept-alive connection is closed after 5 s, one without a whole request head after
        # 10 s (serve/http.py); past 256 open requests, 503 at once
        from cadre_policy.serve.http import BoundedH11Protocol
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False,
                    timeout_keep_alive=5, limit_concurrency=256, http=BoundedH11Protocol)
    except OSError as exc:
        raise Failure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
