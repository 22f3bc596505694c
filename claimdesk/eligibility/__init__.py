"""Eligibility: 270/271 for the visits and claims that need it, holds, the eligibility review."""
