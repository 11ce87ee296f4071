"""Claim modules: each registers its checks with ``symsched_verify.registry.claim``."""
