"""The deconvnet (Zeiler & Fergus 2014, section 2.1): projections of any activation to pixels
(``projection``: the API and the chain engine; ``graph``: any CNN torch.fx can read), computed on
receptive-field crops (``crop``, ``graph_crop``) with one transposed-convolution step
(``transpose``), and the dataset-wide streaming top-k of every feature map (``topk``)."""

from .crop import crop_down, paste
from .graph import GraphDeconvNet
from .projection import RULES, DeconvNet, layer_name
from .topk import TopK, load_state, top_activations

__all__ = ["RULES", "DeconvNet", "GraphDeconvNet", "TopK", "crop_down", "layer_name", "load_state", "paste", "top_activations"]
