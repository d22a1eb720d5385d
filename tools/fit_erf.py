#!/usr/bin/env python3
"""Fits the rational erf that Sources/CKernels/kernels_body.h uses, and checks it evaluated in float32.

    erf(x) ~ x * P(u) / Q(u),  u = x^2 / 16,  |x| <= 4 (erf(±4) is ±1 to float precision)

P has degree 6 and Q degree 5 with Q(0) = 1. The fit is a linearised least-squares (P - erf·Q over x), iterated
with weights 1/|Q| of the last round (Sanathanan-Koerner) and reweighted towards the largest errors (Lawson), so
it approaches the minimax fit. Needs numpy; the reference is math.erf (double precision).

    python3 tools/fit_erf.py        # prints the coefficients (u's powers 0...) and the float32 error
"""
import math

import numpy as np

P_DEGREE, Q_DEGREE, X_MAX, ROUNDS = 6, 5, 4.0, 80


def fit(xs, f):
    t = xs * xs
    weights, q_last, best = np.ones_like(xs), np.ones_like(xs), None
    for _ in range(ROUNDS):
        columns = np.hstack([xs[:, None] * t[:, None] ** np.arange(P_DEGREE + 1),
                             -(f[:, None] * t[:, None] ** np.arange(1, Q_DEGREE + 1))])
        w = weights / np.abs(q_last)
        solution, *_ = np.linalg.lstsq(columns * w[:, None], f * w, rcond=None)
        p, q = solution[:P_DEGREE + 1], np.concatenate([[1.0], solution[P_DEGREE + 1:]])
        q_last = np.polyval(q[::-1], t)
        error = xs * np.polyval(p[::-1], t) / q_last - f
        worst = np.max(np.abs(error))
        if best is None or worst < best[0]:
            best = (worst, p, q)
        weights = weights * (1 + 4 * np.abs(error) / worst)
        weights /= weights.mean()
    return best


def horner32(coefficients, u):
    value = np.float32(coefficients[-1])
    for c in coefficients[-2::-1]:
        value = (value * u + np.float32(c)).astype(np.float32)
    return value


def main():
    xs = np.linspace(0, X_MAX, 40_001)
    f = np.array([math.erf(x) for x in xs])
    worst, p, q = fit(xs, f)
    # In u = x²/16 the coefficients are of like size, which keeps the float32 evaluation's rounding small.
    scale = (X_MAX * X_MAX) ** np.arange(max(P_DEGREE, Q_DEGREE) + 1)
    pu, qu = p * scale[:P_DEGREE + 1], q * scale[:Q_DEGREE + 1]
    check = np.linspace(-8, 8, 2_000_001).astype(np.float32)
    x = np.clip(check, -X_MAX, X_MAX).astype(np.float32)
    u = (x * x * np.float32(1 / 16)).astype(np.float32)
    y = (x * horner32(pu, u) / horner32(qu, u)).astype(np.float32)
    exact = np.array([math.erf(v) for v in check.astype(np.float64)])
    print(f"fit error {worst:.3g}; float32 evaluation over [-8, 8]: {np.max(np.abs(y - exact)):.3g}")
    print("P:", ", ".join(f"{c:.9e}f" for c in pu))
    print("Q:", ", ".join(f"{c:.9e}f" for c in qu))


if __name__ == "__main__":
    main()
