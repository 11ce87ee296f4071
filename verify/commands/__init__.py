"""Subcommands contributed by verify (each module has ``register(subparsers)``)."""
