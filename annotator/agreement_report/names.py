"""The coefficients' names as the pages, the tables and the paragraph print them."""

# For a table's first column or a heading.
COEFFICIENT_NAMES: dict[str, str] = {
    "krippendorff_alpha": "Krippendorff's α",
    "percent_agreement": "Percent agreement",
    "fleiss_kappa": "Fleiss' κ",
    "conger_kappa": "Conger's κ",
    "scott_pi": "Scott's π",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "brennan_prediger": "Brennan–Prediger κ",
    "cohen_kappa": "Cohen's κ",
}

# Inside a sentence (APA prose: "Brennan and Prediger's κ", lower-case common nouns).
PROSE_NAMES: dict[str, str] = {
    **COEFFICIENT_NAMES,
    "percent_agreement": "percent agreement",
    "brennan_prediger": "Brennan and Prediger's κ",
}
