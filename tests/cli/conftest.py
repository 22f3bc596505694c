"""A demo office as `make up` leaves it after its first eligibility run, driven by the CLI.

`claimdesk db upgrade`, `claimdesk demo-data` (the 60 claims of `claimdesk up --demo`),
`claimdesk users bootstrap-admin ada` and (signed in as ada) `claimdesk users add sam` run
as real processes; sam is left signed in (a test signs in as another with ``sign_in``).
Then the payer simulator (a real HTTP server, answering for the demo's payers and
members) gets each coverage's 270, as the `eligibility` flow's task does, and the clean
claims are scrubbed as `submission` does first. Ended coverages become eligibility tasks,
as on the demo.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.demo import DemoCli, cli_env


@pytest.fixture(scope="session")
def demo_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoCli]:
    from claimdesk.clock import today
    from claimdesk.db import make_engine, session_scope
    from claimdesk.demo.sim_config import sim_config_from_database
    from claimdesk.eligibility.service import run_eligibility, select_coverages_to_check
    from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
    from claimdesk.settings import Settings
    from claimdesk.submission.service import scrub_ready_claims

    data_dir = tmp_path_factory.mktemp("demo-cli")
    demo = DemoCli(data_dir, cli_env(data_dir))
    for args, stdin in (
        (("db", "upgrade"), None),
        (("demo-data", "--claims", "60", "--seed", "1"), None),
        (("users", "bootstrap-admin", "ada", "--password-stdin"), "ada-demo-pw-42\n"),
        (("users", "add", "sam", "--role", "specialist", "--password-stdin"), "sam-demo-pw-42\n"),
    ):
        if args[0] == "users" and args[1] == "add":
            demo.sign_in("ada")
        done = demo.run(*args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    demo.sign_in("sam")

    settings = Settings(_env_file=None, data_dir=data_dir)
    engine = make_engine(settings)
    with session_scope(engine) as session:
        config = sim_config_from_database(session, clock_start=today(settings))
    url, sim = start_payer_sim(data_dir, seed=1, config=config)
    try:
        on_sim = settings.model_copy(
            update={"payer_sim_url": f"{url}/core", "clock_source": "payer_sim"}
        )
        day = today(on_sim)
        with session_scope(engine) as session:
            checks = select_coverages_to_check(
                session, today=day, horizon_days=3, recheck_days=30, limit=2000
            )
        run = run_eligibility(engine, on_sim, checks, today=day)
        assert run.held > 1, run  # the demo's ended coverages
        scrub_ready_claims(engine, today=day)
    finally:
        stop_payer_sim(sim)
        engine.dispose()
    yield demo
