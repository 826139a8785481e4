"""A CNN read as a chain of stages: the model representation that the deconvnet, the incremental
occlusion engine and the receptive-field arithmetic share."""

from .blocks import Pointwise, Residual
from .read import HEAD, NotSplittable, feature_chain, model_stages

__all__ = ["HEAD", "NotSplittable", "Pointwise", "Residual", "feature_chain", "model_stages"]
