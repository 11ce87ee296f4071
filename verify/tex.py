r"""LaTeX spellings of numbers, for the formulas claims state (``math=`` of
:func:`symsched_verify.registry.claim`): a tolerance written as ``1e-09`` reads as "1 e minus 9" in
typeset math, :func:`tex_number` writes it as :math:`10^{-9}`."""

from __future__ import annotations

__all__ = ["tex_number"]


def tex_number(x: float) -> str:
    r"""``x`` in LaTeX: ``10^{-9}`` for 1e-9, ``2.5\cdot10^{-3}`` for 0.0025, ``0.05`` as it is.

    Examples
    --------
    >>> tex_number(1e-9), tex_number(3e-3), tex_number(0.05), tex_number(64)
    ('10^{-9}', '0.003', '0.05', '64')
    >>> tex_number(2.5e-12)
    '2.5\\cdot10^{-12}'
    """
    text = f"{x:g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else f"{mantissa}\\cdot{power}"
