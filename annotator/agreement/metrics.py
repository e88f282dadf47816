"""Agreement weights (kappa family) and difference functions (Krippendorff's alpha).

Weights live on *positions* of the ordered category scale so that the same
matrix works for labels that are not numbers. Difference functions follow
Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", and MASI
follows Passonneau (2006), "Measuring agreement on set-valued items (MASI)".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._coding import Coded

WEIGHT_NAMES = ("identity", "linear", "quadratic")


def agreement_weights(
    weights: str | np.ndarray | Sequence[Sequence[float]], q: int
) -> np.ndarray:
    """Return the q x q agreement weights w_kl for a named scheme or a custom matrix.

    Named schemes use scale positions k, l = 0..q-1 (Cohen 1968; Gwet 2014, ch. 3):
    identity w = [k = l]; linear w = 1 - |k - l| / (q - 1);
    quadratic w = 1 - (k - l)^2 / (q - 1)^2. With one category every scheme is 1.
    """
    if isinstance(weights, str):
        if weights not in WEIGHT_NAMES:
            raise ValueError(f"weights must be one of {WEIGHT_NAMES} or a q x q matrix")
        if weights == "identity" or q <= 1:
            return np.eye(q)
        pos = np.arange(q, dtype=float)
        diff = np.abs(pos[:, None] - pos[None, :]) / (q - 1)
        return 1.0 - diff if weights == "linear" else 1.0 - diff**2
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q):
        raise ValueError(
            f"custom weights must be a {q} x {q} matrix, got shape {w.shape}"
        )
    return w


def is_identity(weights: Any) -> bool:
    """Whether ``weights`` names (or equals) the identity scheme."""
    if isinstance(weights, str):
        return weights == "identity"
    w = np.asarray(weights, dtype=float)
    return (
        w.ndim == 2 and w.shape[0] == w.shape[1] and np.array_equal(w, np.eye(len(w)))
    )


def masi_distance(a: Any, b: Any) -> float:
    """MASI distance between two label sets: 1 - J * M (Passonneau 2006).

    J is the Jaccard ratio |a & b| / |a | b|; M is 1 when the sets are equal,
    2/3 when one is a proper subset of the other, 1/3 when they overlap
    otherwise and 0 when disjoint. Two empty sets are equal (distance 0).
    """
    a, b = frozenset(a), frozenset(b)
    if a == b:
        return 0.0
    inter = len(a & b)
    if inter == 0:
        return 1.0
    m = 2.0 / 3.0 if (a <= b or b <= a) else 1.0 / 3.0
    return 1.0 - (inter / len(a | b)) * m


class Difference:
    """Krippendorff's squared difference delta^2_ck for one level of measurement.

    ``at(c, k, n)`` evaluates it for index arrays; ``n`` holds the pairable-value
    marginals n_c (optionally batched, shape (..., q)), needed only by ordinal.
    """

    def __init__(self, level: str, coded: Coded):
        self.level = level
        self.q = coded.q
        if level in ("interval", "ratio"):
            self.x = coded.positions()
        if level == "set":
            labels = sorted({lab for s in coded.categories for lab in s}, key=str)
            col = {lab: i for i, lab in enumerate(labels)}
            inc = np.zeros((coded.q, max(len(labels), 1)), dtype=np.int64)
            for i, s in enumerate(coded.categories):
                for lab in s:
                    inc[i, col[lab]] = 1
            self.inc = inc
            self.size = inc.sum(axis=1)

    @property
    def needs_marginals(self) -> bool:
        return self.level == "ordinal"

    def at(
        self, c: np.ndarray, k: np.ndarray, n: np.ndarray | None = None
    ) -> np.ndarray:
        """delta^2 for paired category indices c, k (broadcast over n's batch axes)."""
        if self.level == "nominal":
            return (c != k).astype(float)
        if self.level == "interval":
            return (self.x[c] - self.x[k]) ** 2
        if self.level == "ratio":
            s = self.x[c] + self.x[k]
            d = self.x[c] - self.x[k]
            with np.errstate(divide="ignore", invalid="ignore"):
                out = (d / s) ** 2
            return np.where(s == 0, 0.0, out)
        if self.level == "ordinal":
            return _ordinal(n, c, k)
        return self._masi(c, k)

    def _masi(self, c: np.ndarray, k: np.ndarray) -> np.ndarray:
        out = np.empty(len(c))
        step = max(1, 2_000_000 // self.inc.shape[1])
        for s in range(0, len(c), step):
            cc, kk = c[s : s + step], k[s : s + step]
            inter = (self.inc[cc] & self.inc[kk]).sum(axis=1).astype(float)
            union = self.size[cc] + self.size[kk] - inter
            equal = cc == kk
            subset = (inter == self.size[cc]) | (inter == self.size[kk])
            m = np.where(subset, 2.0 / 3.0, 1.0 / 3.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                d = 1.0 - np.where(union > 0, inter / union, 1.0) * m
            out[s : s + step] = np.where(equal, 0.0, np.where(inter == 0, 1.0, d))
        return out

    def expected_numerator(self, n: np.ndarray) -> np.ndarray:
        """Sum over c, k of n_c n_k delta^2_ck for marginals n of shape (..., q)."""
        n = np.asarray(n, dtype=float)
        if self.level == "nominal":
            tot = n.sum(axis=-1)
            return tot**2 - (n**2).sum(axis=-1)
        if self.level == "interval":
            x = self.x
            tot, s1, s2 = n.sum(axis=-1), n @ x, n @ (x**2)
            return 2.0 * (tot * s2 - s1**2)
        idx = np.arange(self.q)
        if self.level == "ordinal":
            c, k = np.meshgrid(idx, idx, indexing="ij")
            delta = _ordinal(n, c.ravel(), k.ravel()).reshape(
                n.shape[:-1] + (self.q, self.q)
            )
            return np.einsum("...c,...ck,...k->...", n, delta, n)
        total = np.zeros(n.shape[:-1])
        step = max(1, 4_000_000 // max(self.q, 1))
        for s in range(0, self.q, step):
            rows = idx[s : s + step]
            c = np.repeat(rows, self.q)
            k = np.tile(idx, len(rows))
            delta = self.at(c, k).reshape(len(rows), self.q)
            total = total + np.einsum("...c,ck,...k->...", n[..., rows], delta, n)
        return total


def _ordinal(n: np.ndarray, c: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal metric (sum_{g=c..k} n_g - (n_c + n_k)/2)^2."""
    n = np.asarray(n, dtype=float)
    cum = np.cumsum(n, axis=-1)
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    between = cum[..., hi] - cum[..., lo] + n[..., lo]
    return (between - (n[..., c] + n[..., k]) / 2.0) ** 2
