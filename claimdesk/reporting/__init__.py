"""Reporting: revenue-cycle KPIs, the manager's dashboard, and Prefect's flow runs."""
