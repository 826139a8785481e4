"""``zfcuda atlas``: a browsable static site of every unit of a CNN's chosen layers over a folder of
images (the paper's Fig. 2 for a whole network): each unit's strongest activations as
receptive-field patches beside their deconvnet projections, with its response histogram."""

from .pipeline import AtlasSummary, build

__all__ = ["AtlasSummary", "build"]
