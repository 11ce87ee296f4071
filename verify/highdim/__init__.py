"""Oracle simulators and measurements of the high-dimensional models (issue 5)."""
