"""Claim modules: each registers its checks with ``verify.registry.claim``."""
