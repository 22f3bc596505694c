"""Status polling: 276/277 rounds on each payer's cadence, and the follow-up review."""
