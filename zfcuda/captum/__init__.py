"""Drop-in replacements for captum's deconvolution family, on zfcuda's engines: change the import,
keep the calls (``zfcuda.captum.NeuronDeconvolution(model, layer).attribute(inputs, (4, 1, 2))``)."""

from .deconvolution import Deconvolution, GuidedBackprop, NeuronDeconvolution, NeuronGuidedBackprop

__all__ = ["Deconvolution", "GuidedBackprop", "NeuronDeconvolution", "NeuronGuidedBackprop"]
