"""Accessible bar charts of one question's results, as SVG or PNG (matplotlib, Agg)."""

from __future__ import annotations

import io
import re
import textwrap
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, read by screen readers
matplotlib.rcParams["svg.hashsalt"] = "cityapp-surveys"  # stable ids, so ETags mean something

from matplotlib.figure import Figure  # noqa: E402 - after choosing the backend

from cityapp.errors import NotFound  # noqa: E402
from cityapp.surveys.models import QuestionType  # noqa: E402

BAR_COLOUR = "#1f5fa8"  # 7:1 contrast against white for the bars' labels next to them
TEXT_COLOUR = "#1a1a1a"


# The chart's own words; German is also used for Leichte Sprache and unknown languages.
WORDS = {
    "de": {
        "votes": "Stimmen",
        "points": "Borda-Punkte",
        "point": "Pkt.",
        "rank": "Ø Rang",
        "bar_chart": "Balkendiagramm",
        "ranking": "Rangfolge",
        "about": "zu „{title}“",
        "answers": "Antworten",
        "mean": "Mittelwert",
        "median": "Median",
    },
    "en": {
        "votes": "Votes",
        "points": "Borda points",
        "point": "pts",
        "rank": "avg. rank",
        "bar_chart": "Bar chart",
        "ranking": "Ranking",
        "about": "of “{title}”",
        "answers": "answers",
        "mean": "mean",
        "median": "median",
    },
}


def _words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["de"])


def _number(value: float, language: str) -> str:
    """One decimal, with the decimal comma in German."""
    text = f"{value:.1f}"
    return text if language == "en" else text.replace(".", ",")


def chart_bars(
    block: dict[str, Any], language: str = "de"
) -> tuple[list[str], list[float], list[str], str]:
    """(labels, values, annotations, axis label) for one question's result block."""
    words = _words(language)
    qtype = block["type"]
    if qtype in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.YES_NO):
        options = block["options"]
        return (
            [o["label"] or "" for o in options],
            [o["count"] for o in options],
            [f"{o['count']} ({_number(o['percent'], language)} %)" for o in options],
            words["votes"],
        )
    if qtype == QuestionType.SCALE:
        scale = block["scale"]
        labels = []
        for bucket in scale["distribution"]:
            label = str(bucket["value"])
            if bucket["value"] == scale["min"] and scale["min_label"]:
                label += f": {scale['min_label']}"
            if bucket["value"] == scale["max"] and scale["max_label"]:
                label += f": {scale['max_label']}"
            labels.append(label)
        return (
            labels,
            [b["count"] for b in scale["distribution"]],
            [f"{b['count']} ({_number(b['percent'], language)} %)" for b in scale["distribution"]],
            words["votes"],
        )
    if qtype == QuestionType.RANKING:
        options = block["options"]
        return (
            [o["label"] or "" for o in options],
            [o["borda_score"] for o in options],
            [
                f"{o['borda_score']} {words['point']} "
                f"({words['rank']} {_number(o['average_rank'] or 0, language)})"
                for o in options
            ],
            words["points"],
        )
    raise NotFound("Free-text questions have no chart; their moderated texts are in the results.")


def describe(block: dict[str, Any], language: str = "de") -> str:
    """The alt text: every bar as words, so the chart carries no information only visually."""
    words = _words(language)
    labels, _values, annotations, _axis = chart_bars(block, language)
    kind = words["ranking"] if block["type"] == QuestionType.RANKING else words["bar_chart"]
    parts = [
        f"{label}: {annotation}" for label, annotation in zip(labels, annotations, strict=True)
    ]
    about = words["about"].format(title=block["title"])
    summary = f"{kind} {about}, {block['respondents']} {words['answers']}. "
    if block["type"] == QuestionType.SCALE and block["scale"]["mean"] is not None:
        scale = block["scale"]
        summary += (
            f"{words['mean']} {_number(scale['mean'], language)}, "
            f"{words['median']} {_number(scale['median'], language)}. "
        )
    return summary + "; ".join(parts) + "."


def render_chart(block: dict[str, Any], fmt: str, language: str = "de") -> bytes:
    """Render a horizontal bar chart with labels and percentages; SVG gets <title>/<desc>."""
    labels, values, annotations, axis_label = chart_bars(block, language)
    wrapped = [textwrap.fill(label, 32) for label in labels]
    height = 1.2 + 0.55 * max(len(labels), 1) + 0.15 * sum(w.count("\n") for w in wrapped)
    figure = Figure(figsize=(8, height), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=BAR_COLOUR, height=0.6)
    axes.set_yticks(positions, wrapped, color=TEXT_COLOUR, fontsize=10)
    axes.invert_yaxis()  # first option on top, in reading order
    top = max(values, default=0) or 1
    axes.set_xlim(0, top * 1.35)
    for position, value, annotation in zip(positions, values, annotations, strict=True):
        axes.text(
            value + top * 0.01,
            position,
            annotation,
            va="center",
            fontsize=9,
            color=TEXT_COLOUR,
        )
    axes.set_xlabel(axis_label, color=TEXT_COLOUR)
    axes.set_title(textwrap.fill(block["title"] or "", 70), loc="left", fontsize=12)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    if fmt == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        return _add_alt_text(buffer.getvalue(), block["title"] or "", describe(block, language))
    figure.savefig(
        buffer, format="png", metadata={"Software": None, "Description": describe(block, language)}
    )
    return buffer.getvalue()


_SVG_OPEN = re.compile(rb"<svg\b[^>]*>")


def _add_alt_text(svg: bytes, title: str, description: str) -> bytes:
    """Give the SVG an accessible name and description (role=img, <title>, <desc>)."""
    match = _SVG_OPEN.search(svg)
    if match is None:  # pragma: no cover - matplotlib always writes an <svg> element
        raise RuntimeError("matplotlib produced no <svg> element")
    tag = match.group(0)[:-1].decode()
    opened = (
        f'{tag} role={quoteattr("img")} aria-labelledby="chart-title chart-desc">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>'
    ).encode()
    return svg[: match.start()] + opened + svg[match.end() :]
