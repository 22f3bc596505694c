"""Intake: the office (practice, providers, payers, fee schedules, users) and its claims,
from files.
"""
