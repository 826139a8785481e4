"""The demo's index.html: a page a person would show a colleague. Each section is a card with a few
sentences and its figures; figures given together share a row at a common height; the timings close it."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f4f5f7;color:#1d2330;line-height:1.5}
header{background:#1d2330;color:#fff;padding:28px 0 22px}
.wrap{max-width:1180px;margin:0 auto;padding:0 20px}
header h1{margin:0 0 6px;font-size:26px}
header p{margin:0;color:#c9cfdb;max-width:900px}
nav{margin-top:14px;font-size:13px;display:flex;flex-wrap:wrap;gap:4px 18px}
nav a{color:#9fc2ff;text-decoration:none}
section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:22px 0;padding:18px 22px}
section h2{margin:0 0 6px;font-size:20px}
section p{margin:0 0 12px;max-width:960px}
.row{display:flex;gap:12px;align-items:flex-start;margin:10px 0}
.row a{display:block;min-width:0}
img{width:100%;height:auto;border:1px solid #e2e5ea;border-radius:4px;background:#fff}
table{border-collapse:collapse;font-size:14px}td,th{padding:3px 14px 3px 0;text-align:left}
footer{color:#6b7384;font-size:13px;padding:10px 0 30px}
"""


@dataclass
class Section:
    """One card of the page: a title, a few sentences, and figures (paths relative to the page; a
    tuple of paths is one row of figures side by side)."""

    title: str
    text: str
    figures: list[str | tuple[str, ...]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, path relative to the page)


def _row(out_dir: Path, paths: tuple[str, ...]) -> str:
    """Figures side by side, each as wide as makes their heights equal; a figure alone is shown at
    most at its own width."""
    cells = []
    for path in paths:
        with Image.open(out_dir / path) as image:
            width, height = image.size
        link = html.escape(path)
        size = f"flex:1;max-width:{width}px" if len(paths) == 1 else f"flex:{width / height:.4f}"
        cells.append(f"<a href='{link}' style='{size}'>"
                     f"<img src='{link}' alt='{link}' width='{width}' height='{height}' loading='lazy'></a>")
    return f"<div class='row'>{''.join(cells)}</div>"


def write_page(out_dir: Path, sections: list[Section], timings: list[tuple[str, float]], summary: str) -> Path:
    """Writes ``out_dir/index.html``; every figure must exist under ``out_dir``.

    Raises:
        FileNotFoundError: a section names a figure that was not written.
    """
    rows = [[row] if isinstance(row, str) else list(row) for s in sections for row in s.figures]
    missing = [f for row in rows for f in row if not (out_dir / f).is_file()]
    missing += [path for s in sections for _, path in s.links if not (out_dir / path).is_file()]
    if missing:
        raise FileNotFoundError(f"the demo page would reference missing figures: {', '.join(missing)}")
    anchors = [f"s{i}" for i in range(len(sections))]
    nav = "".join(f"<a href='#{a}'>{html.escape(s.title)}</a>" for a, s in zip(anchors, sections))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>zfcuda demo</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><div class='wrap'><h1>Visualizing and understanding convolutional networks, on your machine</h1>",
        f"<p>{html.escape(summary)}</p><nav>{nav}</nav></div></header><main class='wrap'>",
    ]
    for anchor, section in zip(anchors, sections):
        figures = "".join(_row(out_dir, (row,) if isinstance(row, str) else row) for row in section.figures)
        links = "".join(f"<p><a href='{html.escape(path)}'>{html.escape(text)}</a></p>" for text, path in section.links)
        parts.append(f"<section id='{anchor}'><h2>{html.escape(section.title)}</h2><p>{html.escape(section.text)}</p>{links}{figures}</section>")
    table = "".join(f"<tr><td>{html.escape(name)}</td><td>{seconds:.1f} s</td></tr>" for name, seconds in timings)
    parts.append(f"<section><h2>Timings</h2><table><tr><th>step</th><th>time</th></tr>{table}</table></section></main>")
    parts.append("<footer><div class='wrap'>Made by <code>zfcuda demo</code>: Zeiler &amp; Fergus, ECCV 2014, on switch-pooling "
                 "CPU/CUDA kernels.</div></footer></body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts))
    return path
