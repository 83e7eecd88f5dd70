"""The survey's self-contained HTML report, rendered from the results tree only.

No script, no external request: inline CSS and SVG bars. Every text that came from
the user (file and column names) or a definition file is escaped and shown literally.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:.9rem}svg{display:block;margin:.5rem 0}
"""


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "hidden"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _prop(p: dict[str, Any]) -> str:
    if p.get("suppressed"):
        return "hidden to protect a small cell" if p.get("hidden") == "complement" else "hidden (small count)"
    return f"{p['count']:,} ({100 * p['rate']:.1f}%)"


def _histogram(dist: dict[str, Any]) -> str:
    bins = dist["bins"]
    counts = [b["count"] or 0 for b in bins.values()]
    top = max(counts) or 1
    width, height, gap = 480, 120, 2
    bar = width / len(counts)
    rects = []
    for i, (b, c) in enumerate(zip(bins.values(), counts)):
        h = height * c / top
        label = escape(f"{dist['edges'][i]:.2f} to {dist['edges'][i + 1]:.2f}: {_prop(b)}")
        fill = "#bbb" if b.get("suppressed") else "#4a78a8"
        rects.append(
            f'<rect x="{i * bar:.1f}" y="{height - h:.1f}" width="{bar - gap:.1f}" height="{h:.1f}" fill="{fill}">'
            f"<title>{label}</title></rect>"
        )
    axis = f'<text x="0" y="{height + 14}" font-size="11">{dist["edges"][0]:g}</text>'
    axis += f'<text x="{width}" y="{height + 14}" font-size="11" text-anchor="end">{dist["edges"][-1]:g}</text>'
    return (
        f'<svg width="{width}" height="{height + 18}" role="img" aria-label="distribution">{"".join(rects)}{axis}</svg>'
    )


def _scale_section(name: str, s: dict[str, Any]) -> str:
    alpha, omega = s["alpha"], s["omega"]
    ci = alpha.get("ci")
    ci_text = f" ({ci[0]:.3f} to {ci[1]:.3f})" if ci else ""
    omega_text = (
        _num(omega["value"], 3)
        if omega["value"] is not None
        else ("model does not fit" if omega.get("fits") is False else "not computed")
    )
    rows = [
        ("Respondents scored", _num(s["n"])),
        ("Mean", _num(s["mean"])),
        ("SD", _num(s["sd"])),
        ("Cronbach's alpha", _num(alpha["value"], 3) + ci_text),
        ("McDonald's omega", omega_text),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in rows)
    bands = ""
    if s["bands"]:
        band_rows = "".join(
            f"<tr><td>{escape(label)}</td><td>{escape(_prop(p))}</td></tr>" for label, p in s["bands"].items()
        )
        bands = (
            f"<h3>Published bands</h3><table>{band_rows}</table><p class=note>{escape(s['bands_citation'] or '')}</p>"
        )
    items = ", ".join(str(i) for i in s["items"])
    return (
        f"<section><h2>{escape(name)}</h2><p class=note>{escape(s['scoring'])} of items {escape(items)}; "
        f"range {s['range'][0]:g} to {s['range'][1]:g}; {escape(s['good'])} is better</p>"
        f"<table>{body}</table>{_histogram(s['distribution'])}{bands}</section>"
    )


def render_html(results: dict[str, Any]) -> str:
    """The report as one HTML string (deterministic for the same results)."""
    inst = results["instrument"]
    title = f"Staff survey: {inst['title']}"
    sections = "".join(_scale_section(name, s) for name, s in results["subscales"].items())
    flags = "".join(
        f"<p><strong>{escape(name)}</strong> (item {f['item']} at least {f['at_least']}): {escape(_prop(f))}. {escape(f['note'])}</p>"
        for name, f in results["flags"].items()
    )
    privacy = results["privacy"]
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>File {escape(results['input']['file'])}: {escape(_num(results['respondents']))} respondents. "
        f"Scored by {escape(inst['name'])} version {escape(inst['version'])}: {escape(inst['citation'])}</p>"
        f"{sections}{flags}"
        f"<h2>Methods</h2><p class=note>{escape(results['methods']['alpha'])}. {escape(results['methods']['omega'])}. "
        f"{escape(results['methods']['omega_fit'])}. Counts of 1 to {privacy['min_cell_count'] - 1} are hidden, with "
        "complementary cells where a total would reveal them.</p></body></html>\n"
    )
