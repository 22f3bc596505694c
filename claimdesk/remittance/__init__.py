"""Remittance: 835s picked up or brought in, posted once per set and per claim, and paper EOBs."""
