"""Charts of a report as inline SVG (matplotlib, no JavaScript, fonts left to the page).

Only published values are drawn: a suppressed count is left out of the bars and named under the
chart, so a chart never shows more than the tables do.
"""

from __future__ import annotations

import io
import re
from typing import Any

#: Colour-blind-safe (Okabe-Ito); the bars are also labelled with their values.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def bar_svg(title: str, values: dict[str, Any], *, xlabel: str = "count") -> str:
    """A horizontal bar chart of the numeric values; '' when there is nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(k, float(v)) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    hidden = [k for k, v in values.items() if isinstance(v, str)]
    if not shown:
        return ""
    shown.sort(key=lambda kv: kv[1])
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "haven"}):
        fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(shown) + 1.0))
        labels = [k.replace("STATEMENT_CATEGORY_", "").replace("_", " ").lower() for k, _ in shown]
        bars = ax.barh(labels, [v for _, v in shown], color=COLOURS[0])
        ax.bar_label(bars, fmt="%g", padding=3)
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
        if hidden:
            ax.annotate(
                "not shown (suppressed): " + ", ".join(hidden),
                xy=(0, 0),
                xycoords="figure fraction",
                xytext=(6, 4),
                textcoords="offset points",
                fontsize=7,
            )
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
