"""The works the methods paragraph cites: APA 7 reference strings, keyed."""

from __future__ import annotations

from collections.abc import Iterable

REFERENCES: dict[str, str] = {
    "bloch1989": (
        "Bloch, D. A., & Kraemer, H. C. (1989). 2 x 2 kappa coefficients: Measures "
        "of agreement or association. Biometrics, 45(1), 269–287."
    ),
    "brennan1981": (
        "Brennan, R. L., & Prediger, D. J. (1981). Coefficient kappa: Some uses, "
        "misuses, and alternatives. Educational and Psychological Measurement, "
        "41(3), 687–699."
    ),
    "cohen1960": (
        "Cohen, J. (1960). A coefficient of agreement for nominal scales. "
        "Educational and Psychological Measurement, 20(1), 37–46."
    ),
    "conger1980": (
        "Conger, A. J. (1980). Integration and generalization of kappas for "
        "multiple raters. Psychological Bulletin, 88(2), 322–328."
    ),
    "efron1987": (
        "Efron, B. (1987). Better bootstrap confidence intervals. Journal of the "
        "American Statistical Association, 82(397), 171–185."
    ),
    "efron1993": (
        "Efron, B., & Tibshirani, R. J. (1993). An introduction to the bootstrap. "
        "Chapman & Hall."
    ),
    "fleiss1971": (
        "Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. "
        "Psychological Bulletin, 76(5), 378–382."
    ),
    "gwet2008": (
        "Gwet, K. L. (2008). Computing inter-rater reliability and its variance in "
        "the presence of high agreement. British Journal of Mathematical and "
        "Statistical Psychology, 61(1), 29–48."
    ),
    "krippendorff2004": (
        "Krippendorff, K. (2004). Content analysis: An introduction to its "
        "methodology (2nd ed.). Sage."
    ),
    "passonneau2006": (
        "Passonneau, R. (2006). Measuring agreement on set-valued items (MASI) for "
        "semantic and pragmatic annotation. In Proceedings of the Fifth "
        "International Conference on Language Resources and Evaluation (LREC'06) "
        "(pp. 831–836). European Language Resources Association."
    ),
    "scott1955": (
        "Scott, W. A. (1955). Reliability of content analysis: The case of nominal "
        "scale coding. Public Opinion Quarterly, 19(3), 321–325."
    ),
    "wilson1927": (
        "Wilson, E. B. (1927). Probable inference, the law of succession, and "
        "statistical inference. Journal of the American Statistical Association, "
        "22(158), 209–212."
    ),
}

# The work that defines each coefficient (cited where it is reported).
COEFFICIENT_SOURCE: dict[str, str] = {
    "krippendorff_alpha": "krippendorff2004",
    "fleiss_kappa": "fleiss1971",
    "conger_kappa": "conger1980",
    "cohen_kappa": "cohen1960",
    "scott_pi": "scott1955",
    "gwet_ac1": "gwet2008",
    "gwet_ac2": "gwet2008",
    "brennan_prediger": "brennan1981",
}

# The work behind each interval method.
METHOD_SOURCE: dict[str, str] = {
    "percentile": "efron1993",
    "bca": "efron1987",
    "score": "wilson1927",
    "gwet_variance": "gwet2008",
    "logjack": "efron1993",
}


def reference_list(keys: Iterable[str]) -> list[str]:
    """The references of ``keys``, each once, in APA 7 order: alphabetical by
    the first author's surname (then the year), not the order first cited."""
    return sorted({REFERENCES[k] for k in keys}, key=str.casefold)
