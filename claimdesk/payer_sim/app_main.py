"""Start the simulator: parse options, open the state file, serve with uvicorn."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def default_state_path() -> Path:
    base = os.environ.get("CLAIMDESK_DATA_DIR") or str(
        Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "claimdesk"
    )
    return Path(base) / "payer_sim.db"


def serve(host: str, port: int, seed: int | None, config_path: Path | None,
          state_path: Path | None) -> None:  # fmt: skip
    """Serve until interrupted; prints ``payer-sim ready at URL`` once listening."""
    import uvicorn

    from claimdesk.payer_sim.config import load_config
    from claimdesk.payer_sim.engine import PayerSim
    from claimdesk.payer_sim.server import create_app
    from claimdesk.payer_sim.state import Store

    config = load_config(config_path)
    if seed is not None:
        config = config.model_copy(update={"seed": seed})
    path = state_path or default_state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    sim = PayerSim(config, Store(path))
    app = create_app(sim)

    @app.on_event("startup")
    async def _announce() -> None:
        print(f"payer-sim ready at http://{host}:{port}/core", flush=True)

    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m claimdesk.payer_sim")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args(argv)
    from claimdesk.errors import ClaimdeskError

    try:
        serve(args.host, args.port, args.seed, args.config, args.state)
    except ClaimdeskError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from exc
