"""What a coefficient's interval says against Krippendorff's thresholds (pure).

Krippendorff (2004, p. 241) relies on α ≥ .800 and accepts .667 ≤ α < .800
for tentative conclusions; he judges a variable by the lower end of α's
confidence interval, not by the estimate alone. These clauses say where each
end of the interval lies beside the estimate, so a reader sees "α = .81, but
its interval reaches down to .77" rather than a verdict from .81 only.
"""

from __future__ import annotations

import math

from .prose import coefficient

# Krippendorff (2004, p. 241): rely on variables with alpha >= .800; consider
# .667 <= alpha < .800 only for tentative conclusions.
RELIABLE = 0.800
TENTATIVE = 0.667
THRESHOLDS = (RELIABLE, TENTATIVE)
BANDS = {
    2: "at or above .800",
    1: "between .667 and .800",
    0: "below .667",
}


def band(x: float) -> int:
    """2: at or above .800; 1: from .667 to .800; 0: below .667."""
    return 2 if x >= RELIABLE else 1 if x >= TENTATIVE else 0


def shown(x: float) -> str:
    """``x`` to two decimals (APA), more when two would round it across a
    threshold (.7996 is not ".80": it is below .800)."""
    for places in (2, 3):
        rounded = float(f"{x:.{places}f}")
        if all((rounded >= t) == (x >= t) for t in THRESHOLDS):
            return coefficient(x, places)
    return coefficient(x, 4)


def interval_clause(value: float, low: float, high: float) -> str:
    """Where the interval's ends lie beside the estimate's band, or "" when
    there is no interval: "α = .81, but its 95% CI reaches down to .77
    (between .667 and .800)"."""
    if not all(math.isfinite(x) for x in (value, low, high)):
        return ""
    at = band(value)
    text = f"α = {shown(value)}"
    if band(low) < at:
        text += f", but its 95% CI reaches down to {shown(low)} ({BANDS[band(low)]})"
        joint = ", and"
    else:
        text += f", and its 95% CI's lower end, {shown(low)}, is {BANDS[at]} too"
        joint = ", though it"
    if band(high) > at:
        text += f"{joint} reaches up to {shown(high)} ({BANDS[band(high)]})"
    return text


def ends(value: float, low: float, high: float) -> str:
    """The dashboard's verdict's tail (three decimals, as it writes α): each
    end of the interval that lies in another band than the estimate, or ""."""
    if not all(math.isfinite(x) for x in (value, low, high)):
        return ""
    said = ""
    if band(low) != band(value):
        said += (
            f"; but its interval reaches down to {low:.3f} ({BANDS[band(low)]}), "
            "and Krippendorff judges by that lower end"
        )
    if band(high) != band(value):
        said += f"; its interval reaches up to {high:.3f} ({BANDS[band(high)]})"
    return said
