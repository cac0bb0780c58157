"""Image data in and out: :class:`ImageData`, ``.npz`` files and folders of PNG/JPEG files with ``labels.csv``.

Canonical in-memory form: ``images`` float32 in [0, 1], shape ``(N, H, W)`` (grey) or ``(N, H, W, C)`` with
C in {1, 3, 4}; ``labels`` int64 of shape ``(N,)`` or ``None``.

On disk:

* ``.npz``: arrays ``images`` (uint8 in 0..255, or floats in [0, 1]) and optionally ``labels`` (integers).
* a folder: image files ``*.png``/``*.jpg``/``*.jpeg`` (all the same size and channel count) and, optionally,
  ``labels.csv`` with columns ``filename,label`` naming every image file exactly once.

Every problem raises :class:`~synthgen.exceptions.InputError` (or ``DataValidationError``) naming the fix; writes
are atomic (a temporary file/folder renamed into place), so a failed write leaves nothing half-written.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..exceptions import DataValidationError, InputError
from .files import atomic_directory, atomic_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LABELS_FILE = "labels.csv"


@dataclass(frozen=True, eq=False)
class ImageData:
    """Labelled images: ``images`` float32 in [0, 1] (N, H, W[, C]); ``labels`` int64 (N,) or None.

    ``privacy`` is the privacy spend of the generator that made them (a dict), or None for input data.
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    privacy: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        imgs = check_images(self.images)
        labels = check_labels(self.labels, len(imgs))
        object.__setattr__(self, "images", imgs)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def __iter__(self):  # allows ``images, labels = data``
        return iter((self.images, self.labels))


def check_images(images: Any, what: str = "images") -> np.ndarray:
    """Validate an image array and return it as float32 in [0, 1] (uint8 is divided by 255)."""
    if isinstance(images, (list, tuple)):
        shapes = {np.shape(x) for x in images}
        if len(shapes) > 1:
            raise DataValidationError(f"{what} have mixed sizes {sorted(shapes)[:4]}. Fix: resize every image to one "
                                      "size (H, W[, C]) first.")
    try:
        arr = np.asarray(images)
    except (ValueError, TypeError):
        raise DataValidationError(f"{what} cannot be read as one numeric array (mixed sizes?). Fix: give an array "
                                  "(N, H, W) or (N, H, W, C) of one size.") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataValidationError(f"{what} must hold numeric pixel values; got dtype {arr.dtype}. Fix: convert "
                                  "pixels to uint8 (0..255) or floats in [0, 1].")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise DataValidationError(f"{what} must be real-valued; got dtype {arr.dtype}.")
    if arr.ndim not in (3, 4):
        raise DataValidationError(f"{what} must have shape (N, H, W) or (N, H, W, C); got shape {arr.shape}.")
    if arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4):
        raise DataValidationError(f"{what} have {arr.shape[-1]} channels; expected 1 (grey), 3 (RGB) or 4 (RGBA). "
                                  "Fix: put channels last, e.g. images.transpose(0, 2, 3, 1).")
    if len(arr) == 0 or arr.shape[1] < 1 or arr.shape[2] < 1:
        raise DataValidationError(f"{what} are empty (shape {arr.shape}). Fix: give at least one image.")
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / 255.0)
    out = arr.astype(np.float32)
    if not np.isfinite(out).all():
        raise DataValidationError(f"{what} contain NaN or infinite pixel values. Fix: clean or drop those images.")
    lo, hi = float(out.min()), float(out.max())
    if lo < 0.0 or hi > 1.0:
        raise DataValidationError(f"{what} have pixel values outside [0, 1]. Fix: pass uint8 images (0..255) or "
                                  "scale floats into [0, 1] (e.g. divide by 255 or by the declared maximum).")
    return out


def check_labels(labels: Any, n: int, what: str = "labels") -> np.ndarray | None:
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.ndim != 1 or len(arr) != n:
        raise DataValidationError(f"{what} must be a 1-d array with one label per image ({n}); got shape "
                                  f"{arr.shape}.")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise DataValidationError(f"{what} must be whole numbers (class ids). Fix: map class names to 0..K-1.")
    elif arr.dtype.kind not in "iub":
        raise DataValidationError(f"{what} must be integer class ids; got dtype {arr.dtype}. Fix: map class names "
                                  "to 0..K-1.")
    return arr.astype(np.int64)


def as_image_data(data: Any, labels: Any = None) -> ImageData:
    """Accept an :class:`ImageData`, an ``(images, labels)`` tuple, an array (with ``labels``) or a path."""
    if isinstance(data, ImageData):
        return data
    if isinstance(data, (str, os.PathLike)):
        return read_image_data(data)
    if isinstance(data, tuple) and len(data) == 2 and labels is None:
        return ImageData(data[0], data[1])
    return ImageData(data, labels)


# ----------------------------------------------------------------------------------------------- reading
def read_image_data(path: str | os.PathLike) -> ImageData:
    """Read an ``.npz`` file or a folder of PNG/JPEG images (+ optional ``labels.csv``)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist. Fix: give an .npz file or a folder of PNG/JPEG images.")
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    raise InputError(f"{path}: unsupported image input {path.suffix!r}. Fix: give an .npz file (arrays 'images' "
                     "and 'labels') or a folder of PNG/JPEG files with labels.csv.")


def _read_npz(path: Path) -> ImageData:
    import zipfile

    if not zipfile.is_zipfile(path):  # np.load would otherwise try to unpickle it
        raise InputError(f"{path} is not a readable .npz file (not a zip archive). Fix: re-create it with "
                         "np.savez.")
    try:
        with np.load(path, allow_pickle=False) as z:
            files = set(z.files)
            if "images" not in files:
                raise InputError(f"{path} has no array named 'images' (found {sorted(files)}). Fix: save with "
                                 "np.savez(path, images=..., labels=...).")
            images = z["images"]
            labels = z["labels"] if "labels" in files else None
    except InputError:
        raise
    except ValueError:  # object arrays need pickle, which is refused
        raise DataValidationError(f"{path} holds non-numeric (object) arrays, which are never unpickled. Fix: "
                                  "save numeric pixel arrays (uint8 or float).") from None
    except (OSError, EOFError, Exception) as exc:  # zipfile.BadZipFile and friends
        raise InputError(f"{path} is not a readable .npz file ({type(exc).__name__}). Fix: re-create it with "
                         "np.savez.") from None
    return ImageData(check_images(images, f"{path.name}: images"),
                     check_labels(labels, len(images), f"{path.name}: labels") if labels is not None else None)


def _read_folder(path: Path) -> ImageData:
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"{path} holds no PNG/JPEG images. Fix: point to a folder of .png/.jpg files or an .npz.")
    arrays, modes = [], set()
    for f in files:
        try:
            with Image.open(f) as im:
                im.load()
                mode = im.mode
                if mode in ("1", "I", "I;16", "F"):
                    im = im.convert("L")
                elif mode == "P":
                    im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                elif mode == "LA":
                    im = im.convert("RGBA")
                elif mode not in ("L", "RGB", "RGBA"):
                    im = im.convert("RGB")
                mode = im.mode
                arr = np.asarray(im, dtype=np.uint8)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise InputError(f"{f} is not a readable image ({type(exc).__name__}). Fix: remove or replace the "
                             "corrupt file.") from None
        modes.add(mode)
        arrays.append(arr)
    if len(modes) > 1:
        raise DataValidationError(f"{path}: images have different channel counts ({sorted(modes)}). Fix: convert "
                                  "all images to one mode (all grey or all RGB).")
    sizes = {a.shape[:2] for a in arrays}
    if len(sizes) > 1:
        raise DataValidationError(f"{path}: images have mixed sizes {sorted(sizes)[:4]}. Fix: resize every image "
                                  "to one size first.")
    images = np.stack(arrays)
    labels = _read_labels(path, [f.name for f in files])
    return ImageData(images, labels)


def _read_labels(folder: Path, names: list[str]) -> np.ndarray | None:
    lp = folder / LABELS_FILE
    if not lp.exists():
        return None
    try:
        with open(lp, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{lp} cannot be read ({type(exc).__name__}).") from None
    if not rows or not {"filename", "label"} <= set(rows[0]):
        raise InputError(f"{lp} must have a header 'filename,label' and one row per image.")
    mapping: dict[str, str] = {}
    for r in rows:
        name = (r["filename"] or "").strip()
        if name in mapping:
            raise DataValidationError(f"{lp} lists {name!r} more than once. Fix: one row per image file.")
        mapping[name] = (r["label"] or "").strip()
    missing = [n for n in names if n not in mapping]
    extra = sorted(set(mapping) - set(names))
    if missing or extra:
        raise DataValidationError(
            f"{lp} does not match the image files: {len(missing)} file(s) without a label (e.g. {missing[:3]}), "
            f"{len(extra)} label(s) without a file (e.g. {extra[:3]}). Fix: one row per image file in the folder.")
    try:
        return np.asarray([int(mapping[n]) for n in names], dtype=np.int64)
    except ValueError:
        raise DataValidationError(f"{lp}: labels must be integer class ids. Fix: map class names to 0..K-1.") \
            from None


# ----------------------------------------------------------------------------------------------- writing
def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(images, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def write_image_data(data: Any, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write images (+ labels) to ``path``: an ``.npz`` file (suffix ``.npz``) or a folder of PNGs + labels.csv.

    Images are stored as uint8 (0..255). The write is atomic. Returns the path written.
    """
    data = as_image_data(data)
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists. Fix: remove it, choose another path or pass overwrite=True.")
    u8 = to_uint8(data.images)
    if path.suffix.lower() == ".npz":
        arrays = {"images": u8}
        if data.labels is not None:
            arrays["labels"] = data.labels
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buf.getvalue())
        return path
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(f"{path}: write to an .npz file or a folder, not a single image file.")
    from PIL import Image

    width = max(5, len(str(len(u8))))
    with atomic_directory(path) as tmp:
        names = []
        for i, img in enumerate(u8):
            name = f"img_{i:0{width}d}.png"
            Image.fromarray(img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img).save(tmp / name)
            names.append(name)
        if data.labels is not None:
            with open(tmp / LABELS_FILE, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["filename", "label"])
                w.writerows(zip(names, data.labels.tolist()))
    return path
