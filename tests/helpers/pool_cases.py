"""The pooling geometries every switch-op test runs: ZF-Net's pools, odd sizes, ceil mode, dilation."""

from __future__ import annotations

from tests.helpers.inputs import with_layout

# (input shape, kernel, stride, padding, dilation, ceil_mode)
CASES = [
    ((2, 3, 13, 13), 3, 2, 1, 1, False),  # ZF-Net pools: overlapping 3x3 stride 2
    ((2, 3, 13, 13), 3, 2, 0, 1, False),
    ((1, 4, 12, 12), 2, 2, 0, 1, False),  # non-overlapping
    ((2, 2, 9, 11), 3, 1, 1, 1, False),
    ((1, 3, 1, 1), 1, 1, 0, 1, False),  # 1x1
    ((2, 3, 10, 7), 5, 3, 2, 1, True),  # ceil_mode with a window hanging off the edge
    ((1, 2, 11, 11), 3, 2, 1, 2, False),  # dilation
    ((2, 3, 8, 9), (2, 3), (1, 2), (1, 1), (2, 1), True),  # rectangular everything
    # The compiled-in windows' strips (4 outputs a thread) ending past the edge, with ceil_mode.
    ((2, 3, 27, 29), 3, 2, 0, 1, True),
    ((1, 2, 9, 17), 2, 2, 0, 1, True),
    ((2, 2, 10, 19), 3, 2, 1, 1, True),
    ((1, 3, 6, 21), 3, 1, 1, 1, False),
    ((3, 5, 7), 3, 2, 1, 1, False),  # 3-D input
    ((0, 3, 8, 8), 2, 2, 0, 1, False),  # empty batch
]


def case_id(case) -> str:
    shape, k, s, p, d, ceil = case
    return f"{'x'.join(map(str, shape))}-k{k}-s{s}-p{p}-d{d}-{'ceil' if ceil else 'floor'}"


def layout_of_case(x, layout):
    """channels_last runs the shared per-element body on the CPU; NCHW runs the row fast path."""
    return with_layout(x, layout) if x.dim() == 4 else x
