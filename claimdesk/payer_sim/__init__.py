"""The payer simulator: a payer and clearinghouse on loopback, speaking CAQH CORE vC2.2.0.

Run ``claimdesk payer-sim`` or ``python -m claimdesk.payer_sim``; see README.md
beside this file for the admin API, the config format and the codes it emits.
"""
