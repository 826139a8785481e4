"""The images an atlas scans: every image file under a folder (class folders or none), as the
paper's canonical uint8 images, with unreadable files skipped and counted."""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset

from ..data import IMAGE_EXTENSIONS, canonical_image


class AtlasImages(Dataset):
    """Every image under ``root`` (searched recursively, sorted by path) as (canonical uint8
    Tensor[3, 256, 256], index); None for an unreadable file (``collate_skipping`` drops it).

    Args:
        root: the folder.
        per_folder: keep only the first N images of each folder (for quick runs).

    Raises:
        FileNotFoundError / ValueError: no such folder, or no image in it.
    """

    def __init__(self, root: str | Path, per_folder: int | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"data folder {self.root} does not exist")
        files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if per_folder is not None:
            kept, taken = [], {}
            for path in files:
                taken[path.parent] = taken.get(path.parent, 0) + 1
                if taken[path.parent] <= per_folder:
                    kept.append(path)
            files = kept
        if not files:
            raise ValueError(f"data folder {self.root} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}), searched recursively")
        self.files = files
        self.unreadable: set[str] = set()  # names of the files that could not be read

    def __len__(self) -> int:
        return len(self.files)

    def name(self, index: int) -> str:
        """The file's path below ``root``, as pages show it."""
        return self.files[index].relative_to(self.root).as_posix()

    def __getitem__(self, index: int) -> tuple[Tensor, int, int] | None:
        try:
            with Image.open(self.files[index]) as image:
                return canonical_image(image), 0, index
        except (OSError, UnidentifiedImageError, ValueError) as error:
            if self.name(index) not in self.unreadable:
                warnings.warn(f"skipping unreadable image {self.files[index]}: {error}", stacklevel=2)
                self.unreadable.add(self.name(index))
            return None
