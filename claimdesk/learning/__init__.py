"""What the office's own history teaches: denial patterns, suggested scrub rules and their
backtest, a lead's approval, learned contract rates (docs/architecture.md, layer 5)."""
