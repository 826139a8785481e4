"""Drop-in replacements for captum's attribution classes on zfcuda's engines: change the import,
keep the calls (``zfcuda.captum.Occlusion(model).attribute(images, (3, 16, 16), strides=8, target=t)``,
``zfcuda.captum.NeuronDeconvolution(model, layer).attribute(inputs, (4, 1, 2))``)."""

from .deconvolution import Deconvolution, GuidedBackprop, NeuronDeconvolution, NeuronGuidedBackprop
from .occlusion import Occlusion

__all__ = ["Deconvolution", "GuidedBackprop", "NeuronDeconvolution", "NeuronGuidedBackprop", "Occlusion"]
