"""Data: the paper's preprocessing (canonical images, crops, the centre crop a figure shows) and
image folders with their mean image."""

from .folder import IMAGE_EXTENSIONS, ImageFolder, collate_skipping, mean_image
from .preprocess import (
    CANONICAL_SIZE,
    CENTRE,
    CROP_SIZE,
    canonical_image,
    centre_mean,
    crop_offsets,
    image_to_rgb,
    model_input,
    photo_input,
    ten_crops,
    train_crops,
)

__all__ = [
    "CANONICAL_SIZE",
    "CENTRE",
    "CROP_SIZE",
    "IMAGE_EXTENSIONS",
    "ImageFolder",
    "canonical_image",
    "centre_mean",
    "collate_skipping",
    "crop_offsets",
    "image_to_rgb",
    "mean_image",
    "model_input",
    "photo_input",
    "ten_crops",
    "train_crops",
]


def __getattr__(name: str):
    # zfcuda 0.1 kept ``progress`` here; it moved to zfcuda._utils.progress.
    from .._deprecated import moved_attribute

    return moved_attribute("data", name)
