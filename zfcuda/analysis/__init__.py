"""The paper's analyses beyond projections and occlusion, each a module that computes and never
draws (their figures are in ``zfcuda.figures``):

- ``correspondence``: Table 1, the sign disagreement of occlusion feature differences;
- ``invariance``: Fig. 5, feature distances under translation, scale and rotation;
- ``feature_evolution``: Fig. 4, the strongest projections at each training snapshot;
- ``transfer``: Tables 4-5, softmax on fixed features against training from scratch.

Import from the module (``from zfcuda.analysis.invariance import invariance``): the package does
not re-export the functions, so that no function hides the module of the same name.
"""

from . import correspondence, feature_evolution, invariance, transfer

__all__ = ["correspondence", "feature_evolution", "invariance", "transfer"]
