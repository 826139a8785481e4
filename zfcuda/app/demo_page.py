"""The demo's index.html: each figure with a few sentences, and how long each step took."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Section:
    """One part of the page: a title, a few sentences, and figures (paths relative to the page)."""

    title: str
    text: str
    figures: list[str] = field(default_factory=list)


def write_page(out_dir: Path, sections: list[Section], timings: list[tuple[str, float]], summary: str) -> Path:
    """Writes ``out_dir/index.html``; every figure must exist under ``out_dir``.

    Raises:
        FileNotFoundError: a section names a figure that was not written.
    """
    missing = [f for s in sections for f in s.figures if not (out_dir / f).is_file()]
    if missing:
        raise FileNotFoundError(f"the demo page would reference missing figures: {', '.join(missing)}")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>zfcuda demo</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45}"
        "img{max-width:100%;border:1px solid #ddd;margin:6px 0}td,th{padding:2px 12px;text-align:left}</style>",
        "</head><body><h1>zfcuda: Zeiler &amp; Fergus (2014) on your machine</h1>",
        f"<p>{html.escape(summary)}</p>",
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.text)}</p>")
        parts += [f"<a href='{html.escape(f)}'><img src='{html.escape(f)}' alt='{html.escape(f)}'></a>" for f in section.figures]
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{seconds:.1f} s</td></tr>" for name, seconds in timings)
    parts.append(f"<h2>Timings</h2><table><tr><th>step</th><th>time</th></tr>{rows}</table></body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts))
    return path
