"""Schedule methods beyond the built-in families: each module registers its methods on import."""
