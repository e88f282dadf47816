"""The reliability report as Markdown and LaTeX: tables, paragraph, references.

Both draw ``print_tables``' records (the print HTML's), so the figures are the
PDF's. Markdown: pipe tables with ``|`` (and the other inline markup) escaped.
LaTeX: booktabs tables to ``\\input`` into a paper, with ``# $ % & _ { } ~ ^ \\``
escaped and the Greek letters, dashes, relations (≥) and ``< > |`` written for
pdfLaTeX; each table a ``tabularx`` as wide as the text, its text columns
wrapping, and the nine-column primary table set as two (coefficients; data),
so nothing runs into the margin of a standard article.
"""

from __future__ import annotations

from dataclasses import replace

from .print_tables import (
    Table,
    primary_table,
    provenance,
    resampling,
    secondary_table,
    title,
)
from .reliability import ReliabilityReport

# Inline markup that would change a cell's or a line's meaning, backslash first.
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\|*_`[]<>"} | {"\n": " ", "\r": " "})
_LATEX = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "#": r"\#",
        "$": r"\$",
        "%": r"\%",
        "&": r"\&",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
        # pdfLaTeX has no Greek text glyphs by default: math mode has them.
        "α": r"$\alpha$",
        "κ": r"$\kappa$",
        "π": r"$\pi$",
        "−": "$-$",
        # Not set up for pdfLaTeX's utf8 input (an error), or in its default
        # OT1 encoding set as other glyphs (< > | print as ¡ ¿ —).
        "≥": r"$\geq$",
        "≤": r"$\leq$",
        "×": r"$\times$",
        "±": r"$\pm$",
        "<": r"\textless{}",
        ">": r"\textgreater{}",
        "|": r"\textbar{}",
        "–": "--",
        "—": "---",
        "“": "``",
        "”": "''",
        "\n": " ",
        "\r": " ",
    }
)


def md_escape(text: str) -> str:
    """Text safe in a Markdown pipe-table cell or line (no markup, no breaks)."""
    return text.translate(_MARKDOWN)


def tex_escape(text: str) -> str:
    """Text safe in LaTeX: its ten special characters escaped, in one pass."""
    return text.translate(_LATEX)


def _md_table(table: Table) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(md_escape(c) for c in cells) + " |"

    rule = "|" + "|".join("---:" if n else "---" for n in table.numeric) + "|"
    body = [line(row) for row in table.rows] or [
        line(("(none)",) + ("",) * (len(table.columns) - 1))
    ]
    return [f"**{md_escape(table.caption)}**", "", line(table.columns), rule, *body]


def _tables(report: ReliabilityReport) -> list[Table]:
    """The primary table, then each dimension's other coefficients."""
    return [primary_table(report)] + [
        secondary_table(report, d) for d in report.dimensions
    ]


def markdown(report: ReliabilityReport) -> str:
    """The report's tables, methods paragraph and references as Markdown."""
    out = [f"## {md_escape(title(report))}", "", md_escape(provenance(report)), ""]
    for table in _tables(report):
        out += [*_md_table(table), ""]
    out += [md_escape(resampling(report)), "", "### Methods", ""]
    out += [md_escape(report.paragraph), ""]
    if report.references:
        out += ["### References", ""]
        out += [f"- {md_escape(ref)}" for ref in report.references]
        out.append("")
    return "\n".join(out)


# The primary table's nine columns are wider than a page's text: LaTeX sets
# them as two tables, each led by the dimension.
_PRIMARY_PARTS = (
    (("Dimension", "Coefficient", "Value", "95% CI", "Interval"), ""),
    (
        ("Dimension", "Level", "Units", "Coders", "Pairable values"),
        "Data per dimension (behind the coefficient reported)",
    ),
)
# A text column of a tabularx: it takes a share of the width left and wraps.
_WRAPPING = r">{\raggedright\arraybackslash}X"
TEX_PACKAGES = r"\usepackage{booktabs} and \usepackage{tabularx}"


def columns(table: Table, heads: tuple[str, ...], caption: str = "") -> Table:
    """``table`` with only the columns ``heads`` (in that order)."""
    at = [table.columns.index(h) for h in heads]
    return replace(
        table,
        caption=caption or table.caption,
        columns=heads,
        numeric=tuple(table.numeric[i] for i in at),
        rows=tuple(tuple(row[i] for i in at) for row in table.rows),
    )


def _tex_tables(report: ReliabilityReport) -> list[Table]:
    primary = primary_table(report)
    return [columns(primary, heads, caption) for heads, caption in _PRIMARY_PARTS] + [
        secondary_table(report, d) for d in report.dimensions
    ]


def _tex_table(table: Table) -> list[str]:
    spec = "".join("r" if n else _WRAPPING for n in table.numeric)

    def line(cells: tuple[str, ...]) -> str:
        return " & ".join(tex_escape(c) for c in cells) + r" \\"

    body = [line(row) for row in table.rows] or [
        rf"\multicolumn{{{len(table.columns)}}}{{l}}{{(none)}} \\"
    ]
    return [
        r"\begin{table}[htbp]",
        r"\centering",
        r"\small",
        rf"\caption{{{tex_escape(table.caption)}}}",
        rf"\begin{{tabularx}}{{\linewidth}}{{{spec}}}",
        r"\toprule",
        line(table.columns),
        r"\midrule",
        *body,
        r"\bottomrule",
        r"\end{tabularx}",
        r"\end{table}",
    ]


def latex(report: ReliabilityReport) -> str:
    """The report's tables (booktabs in tabularx), methods paragraph and
    references as LaTeX to ``\\input``; pdfLaTeX compiles it with
    TEX_PACKAGES in the preamble (the file's header says so)."""
    out = []
    for table in _tex_tables(report):
        out += [*_tex_table(table), ""]
    out += [tex_escape(resampling(report)), "", r"\paragraph{Methods}"]
    out += [tex_escape(report.paragraph), ""]
    if report.references:
        out.append(r"\paragraph{References}")
        out += [tex_escape(ref) + r" \par" for ref in report.references]
        out.append("")
    body = "\n".join(out)
    return "\n".join(
        [
            f"% {tex_escape(title(report))}",
            f"% {tex_escape(provenance(report))}",
            f"% {engine(body)}",
            "",
            body,
        ]
    )


def engine(body: str) -> str:
    """The header line naming the packages and the engine ``body`` needs: the
    report's own words are ASCII here, but a label is set as written, and
    pdfLaTeX's UTF-8 input has accented Latin letters, not other scripts."""
    needs = f"Needs {TEX_PACKAGES} in the preamble"
    beyond = sorted({c for c in body if ord(c) > 0x7F})
    if not beyond:
        return f"{needs}; compiles with pdfLaTeX."
    if all(ord(c) <= 0x17F for c in beyond):  # Latin-1 and Latin Extended-A
        return f"{needs}; compiles with pdfLaTeX (UTF-8 input, its default)."
    return (
        f"{needs}; labels hold characters pdfLaTeX cannot set "
        f"({''.join(beyond[:8])}): compile with XeLaTeX or LuaLaTeX (fontspec, "
        "a font with these characters)."
    )
