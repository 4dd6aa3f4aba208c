"""Dated on-demand price tables the cost estimate reads (`prices.json`); see docs/cost.md."""
