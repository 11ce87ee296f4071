"""numba rooflines of the exact Gaussian KL: the library's per-eigen-step work as one fused loop.

Each kernel computes, for every eigenvalue, the same per-step quantities the float64 path of
:mod:`symsched.samplers` computes on the fast window (the derived forms, the branch the grids of
the benchmark take), accumulates ln r in a register over the steps, and ends with both KL terms
of :func:`symsched.gaussian.exact.half_phi` (the series for |x| < 1/2, ``expm1`` beyond): one
pass over the eigenvalues, no temporaries, float64, no fastmath, one thread. Per-step scalars
(powers and differences of the two levels) are computed once per step, as the library does.

Used by benchmarks/bench_exact_kl.py only (needs the ``bench`` extra: numba).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numba
import numpy as np

from symsched.samplers import _stable, ancestral

_jit = numba.njit(cache=False, fastmath=False, nogil=True)

_INV_FACT = np.array([1.0 / math.factorial(k) for k in range(20)])


@_jit
def _half_phi(x: float, inv_fact: np.ndarray) -> float:
    if abs(x) < 0.5:
        acc = inv_fact[19]
        for k in range(18, 1, -1):
            acc = acc * x + inv_fact[k]
        return 0.5 * acc * x * x
    return 0.5 * (math.expm1(x) - x)


@_jit
def _ddim(lam, base, c, a2, b2, inv_fact):  # type: ignore[no-untyped-def]
    kso = 0.0
    kos = 0.0
    for i in range(lam.size):
        lv = lam[i]
        acc = base[i]
        for k in range(c.size):
            loss = lv * c[k] / ((a2[k] + lv) * (b2[k] + lv))
            acc += math.log1p(-loss)
        kso += _half_phi(-acc, inv_fact)
        kos += _half_phi(acc, inv_fact)
    return kso, kos


@_jit
def _heun(lam, base, av, bv, c, a2, b2, b3, inv_fact):  # type: ignore[no-untyped-def]
    kso = 0.0
    kos = 0.0
    for i in range(lam.size):
        lv = lam[i]
        acc = base[i]
        for k in range(c.size):
            if bv[k] == 0.0:  # the Euler step to 0: log(lam / (lam + a^2))
                acc += math.log(lv / (a2[k] + lv))
                continue
            t = b2[k] + lv
            ex = (
                c[k]
                * lv
                * (av[k] * lv + 4.0 * b3[k] + 3.0 * bv[k] * lv)
                / ((a2[k] + lv) * t * t * t)
            )
            acc += math.log1p(ex)
        kso += _half_phi(-acc, inv_fact)
        kos += _half_phi(acc, inv_fact)
    return kso, kos


@_jit
def _dpmpp_2m(lam, base, ab, a2, b2, lc, kc, dr, first, inv_fact):  # type: ignore[no-untyped-def]
    kso = 0.0
    kos = 0.0
    for i in range(lam.size):
        lv = lam[i]
        ly = 0.0
        z = 0.0
        for k in range(ab.size):
            inv = 1.0 / (math.sqrt(a2[k] + lv) * math.sqrt(b2[k] + lv))
            cos = (ab[k] + lv) * inv
            loss = lv * lc[k] * (inv * inv)
            kz = 0.0 if first[k] else kc[k] * lv * inv * z
            if loss < 0.25 and kz < 0.25:
                dly = math.log1p(kz - loss / (1.0 + cos))
            else:
                dly = math.log(cos + kz)
            z = (dr[k] * inv + kz) / (cos + kz)
            ly += dly
        acc = base[i] + 2.0 * ly
        kso += _half_phi(-acc, inv_fact)
        kos += _half_phi(acc, inv_fact)
    return kso, kos


@_jit
def _log1pmx(x: float) -> float:
    if abs(x) <= 1e-3:  # the atanh series of symsched.samplers._stable.log1pmx (3 terms here)
        u = x / (2.0 + x)
        u2 = u * u
        tail = ((u2 / 9.0 + 1.0 / 7.0) * u2 + 1.0 / 5.0) * u2 + 1.0 / 3.0
        return 2.0 * u * u * (tail * u - 1.0 / (1.0 - u))
    return math.log1p(x) - x


@_jit
def _euler_vp(lam, base, a2, b2, s, big_l, l1mx, inv_fact):  # type: ignore[no-untyped-def]
    kso = 0.0
    kos = 0.0
    for i in range(lam.size):
        lv = lam[i]
        acc = base[i]
        for k in range(a2.size):
            ta = a2[k] + lv
            tb = b2[k] + lv
            kv = (lv - 1.0) / ta
            x = 0.5 * (kv * big_l[k])
            y = -s[k] * (lv - 1.0) / ((a2[k] + 1.0) * tb)
            kd = s[k] * (lv - 1.0) / (ta * (b2[k] + 1.0))
            if abs(x) <= 0.5 and abs(y) <= 0.5:
                acc += 2.0 * _log1pmx(x) + _log1pmx(y) + kd * (l1mx[k] - y)
            elif y > -0.5:
                acc += 2.0 * math.log1p(x) + math.log1p(y)
            else:
                acc += 2.0 * math.log1p(x) + math.log(ta * (b2[k] + 1.0) / (tb * (a2[k] + 1.0)))
        kso += _half_phi(-acc, inv_fact)
        kos += _half_phi(acc, inv_fact)
    return kso, kos


@_jit
def _ancestral(lam, base, av, a2, d2, g2, ad, b2, u2, inv_fact):  # type: ignore[no-untyped-def]
    kso = 0.0
    kos = 0.0
    for i in range(lam.size):
        lv = lam[i]
        r = math.exp(base[i])
        e = -math.expm1(base[i])
        for k in range(a2.size):
            den = (a2[k] + lv) * (d2[k] + lv)
            ell = lv * g2[k] / den
            t = ad[k] + lv
            c2 = t * t / den
            tb = lv + b2[k]
            w = (lv + d2[k]) / tb
            r, e = w * c2 * r + u2[k] / tb, w * (e + ell * r)
        acc = math.log(r) if r < 0.5 else math.log1p(-min(e, 0.5))
        kso += _half_phi(-acc, inv_fact)
        kos += _half_phi(acc, inv_fact)
    return kso, kos


def _logaddexp(x: float, y: float) -> float:
    hi = max(x, y)
    return hi + math.log1p(math.exp(min(x, y) - hi))


_logaddexp_j = _jit(_logaddexp)


@_jit
def _log1m_exp(v: float) -> float:
    if v > -math.log(2.0):
        return math.log(-math.expm1(v))
    return math.log1p(-math.exp(v))


@_jit
def _flow_heun(lam, base, av, bv, a2, b2, lab, inv_fact):  # type: ignore[no-untyped-def]
    kso = 0.0
    kos = 0.0
    for i in range(lam.size):
        lv = lam[i]
        acc = base[i]
        for k in range(av.size):
            ak = av[k]
            bk = bv[k]
            tb = lv + b2[k]
            ta = a2[k] + lv
            slope = (ak - bk) * (bk * lv + lv * lv + 6.0 * lv + 4.0 * b2[k]) + 4.0 * (bk + 1.0) * tb
            bas = lv * (lv + 1.0) * (lv + 1.0)
            diff = bk - lv
            t1 = math.log(abs(diff)) + math.log(slope)
            t2 = math.log(bas) + lab[k]
            hi = max(t1, t2)
            lo = min(t1, t2)
            same = diff >= 0.0
            lbr = _logaddexp_j(t1, t2) if same else hi + _log1m_exp(lo - hi)
            sign = 1.0 if (same or t2 > t1) else -1.0
            ap1 = ak + 1.0
            db = ak - bk
            pref = 0.25 * lv * db * db * db / (ap1 * ap1 * ta * tb * tb * tb)
            lex = math.log(pref) + lbr
            if sign >= 0.0:
                acc += _logaddexp_j(0.0, lex)
            elif lex < -math.log(2.0):
                acc += _log1m_exp(lex)
            else:
                x2 = 2.0 * lv * lv
                x3 = lv * a2[k]
                x5 = 2.0 * b2[k] * bk
                num = ak * x2 + ak * x5 + 3.0 * bk * x3 + 3.0 * lv * b2[k] + lv * b2[k] * bk
                num += a2[k] * x5 + x2 + x3
                acc += math.log(0.25 * num * num / (ap1 * ap1 * ta * tb * tb * tb))
        kso += _half_phi(-acc, inv_fact)
        kos += _half_phi(acc, inv_fact)
    return kso, kos


def roofline(
    sampler: str, lam: np.ndarray, sigmas: np.ndarray
) -> Callable[[], tuple[float, float]]:
    """A no-argument callable: the fused numba pass of ``sampler`` on ``lam``, ``sigmas``.

    Exact start, finite grid ``sigmas`` inside the fast window. Returns the callable (compiled on
    its first call) giving ``(kl_source_output, kl_output_source)``.
    """
    sig = np.asarray(sigmas, dtype=np.float64)
    if not (np.isfinite(sig[0]) and all(_stable.fast_level(float(v)) for v in sig)):
        raise ValueError("the rooflines take a finite grid inside the fast window")
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    base = np.zeros_like(lam)
    av, bv = sig[:-1].copy(), sig[1:].copy()
    a2, b2 = av * av, bv * bv
    f = _INV_FACT
    if sampler == "ddim":
        c = (av - bv) ** 2
        return lambda: _ddim(lam, base, c, a2, b2, f)
    if sampler == "heun":
        c = 0.25 * (av - bv) ** 3
        return lambda: _heun(lam, base, av, bv, c, a2, b2, bv**3, f)
    if sampler == "dpmpp-2m":
        ab, lc, dr = av * bv, (av - bv) ** 2, bv * (av - bv)
        la = np.log(sig)
        h = np.zeros_like(av)
        h[1:] = (la[1:-1] - la[2:]) / (la[:-2] - la[1:-1])
        kc = 0.5 * (av - bv) / av * h
        first = np.zeros(av.size, dtype=np.bool_)
        first[0] = True
        first |= bv == 0.0
        return lambda: _dpmpp_2m(lam, base, ab, a2, b2, lc, kc, dr, first, f)
    if sampler == "euler-vp":
        s = (av - bv) * (av + bv)
        delta = s / (b2 + 1.0)
        big_l = np.log1p(delta)
        l1mx = np.asarray(_stable.log1pmx_over_x(delta), dtype=np.float64)
        return lambda: _euler_vp(lam, base, a2, b2, s, big_l, l1mx, f)
    if sampler == "ancestral":
        lv = [ancestral._levels(float(x), float(y), 1.0) for x, y in zip(av, bv, strict=True)]
        down = np.array([v[0] for v in lv])
        up = np.array([v[1] for v in lv])
        gap = np.array([v[2] for v in lv])
        return lambda: _ancestral(lam, base, av, a2, down**2, gap**2, av * down, b2, up**2, f)
    if sampler == "flow-heun":
        lab = np.log(av - bv)
        return lambda: _flow_heun(lam, base, av, bv, a2, b2, lab, f)
    raise ValueError(f"no roofline for sampler {sampler!r}")
