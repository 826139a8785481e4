"""The deconvnet (Zeiler & Fergus 2014, section 2.1): projections of any activation to pixels
(``projection``), computed on receptive-field crops (``crop``), and the dataset-wide streaming
top-k of every feature map (``topk``)."""

from .crop import crop_down, paste
from .projection import DeconvNet, layer_name
from .topk import TopK, load_state, top_activations

__all__ = ["DeconvNet", "TopK", "crop_down", "layer_name", "load_state", "paste", "top_activations"]
