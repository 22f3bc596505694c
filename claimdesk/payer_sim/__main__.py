"""``python -m claimdesk.payer_sim --port 8600 --seed 1 --state sim.db``."""

from claimdesk.payer_sim.app_main import main

main()
