"""Progress bars for long loops (occlusion chunks, data-set scans, training epochs)."""

from __future__ import annotations


def progress(iterable, description: str, show: bool = True, leave: bool = True, total: int | None = None):
    """A tqdm progress bar over ``iterable`` (hidden when ``show`` is False, e.g. on ranks other than 0);
    ``total`` gives its length when the iterable has none (a generator)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, disable=not show, leave=leave, dynamic_ncols=True, total=total)
