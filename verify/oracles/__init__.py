"""Independent oracles: particle samplers, the real consumers, 40-digit sums, hand-typed paper
formulas."""
