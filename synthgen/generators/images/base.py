"""The image-only hooks, done once for every image generator: no table schema, images in, images out.

An image generator's data is an :class:`~synthgen.io.images.ImageData` (images, optional labels); there is no table
schema, so the public facts (class list, row bounds) are parameters of the generator. Nothing here reads pixel
values: ``_prepare`` only converts and checks the input's form, ``_finish_sample`` attaches the privacy spend.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...exceptions import ConfigError
from ...io.images import ImageData, as_image_data
from ..base import BaseGenerator


class ImageGenerator(BaseGenerator):
    """Base class of the image generators: ``fit(images_or_(images, labels))``, ``sample(n) -> ImageData``."""

    data_kind: ClassVar[str] = "image"

    def _check_schema(self, schema: Any, allow_inferred: bool) -> None:
        if schema is not None:
            raise ConfigError(f"{type(self).__name__} takes no table schema. Fix: call fit(images) or "
                              "fit((images, labels)).")

    def _prepare(self, data: Any, schema: Any, on_violation: str) -> ImageData:
        return self._check_images(as_image_data(data))

    def _check_images(self, data: ImageData) -> ImageData:
        """Check the form of the input images (e.g. labels among the declared classes); override as needed."""
        return data

    def _finish_sample(self, raw: ImageData, n: int, rng: np.random.Generator) -> ImageData:
        return ImageData(raw.images, raw.labels, privacy=self.privacy_spent_.to_dict())
