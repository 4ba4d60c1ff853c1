"""Numpy images to QImage / QPixmap, for any panel that shows arrays.

Accepts float images in [0, 1] (values outside are clipped) and uint8 / uint16 images, shaped
(H, W), (H, W, 1), (H, W, 3) or (H, W, 4). The returned QImage owns a copy of the pixels, so
the array can be changed or freed afterwards.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as uint8 with 0..255 values, keeping its shape.

    Parameters
    ----------
    array
        Float values in [0, 1] (clipped; NaN becomes 0), uint8, uint16 (scaled down by 257),
        or another integer type (clipped to 0..255).

    Returns
    -------
    numpy.ndarray
        A uint8 array of the same shape.
    """
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        # 65535 / 257 = 255 exactly, and the rounding keeps mid-grey mid-grey.
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.integer):
        return np.clip(array, 0, 255).astype(np.uint8)
    scaled = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def array_to_qimage(array: np.ndarray) -> QImage:
    """Convert one image array into a QImage that owns its pixels.

    Parameters
    ----------
    array
        (H, W) or (H, W, C) with C in 1, 3, 4; float in [0, 1] or uint8 / uint16.

    Returns
    -------
    QImage
        Grayscale8, RGB888 or RGBA8888.

    Raises
    ------
    ValueError
        When the shape is not an image.
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif array.ndim == 3 and array.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
    elif array.ndim == 3 and array.shape[2] == 4:
        fmt = QImage.Format.Format_RGBA8888
    else:
        raise ValueError(f"cannot show an array of shape {array.shape} as an image")
    pixels = np.ascontiguousarray(to_uint8(array))
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, pixels.strides[0], fmt)
    # QImage only borrows the buffer; the copy makes it independent of ``pixels``.
    return image.copy()


def array_to_qpixmap(array: np.ndarray, scale: int = 1) -> QPixmap:
    """Convert an image array into a QPixmap, optionally enlarged with nearest-neighbour.

    Parameters
    ----------
    array
        As for :func:`array_to_qimage`.
    scale
        Integer enlargement; nearest-neighbour keeps small images (28 x 28 digits) sharp.

    Returns
    -------
    QPixmap
    """
    image = array_to_qimage(array)
    if scale > 1:
        image = image.scaled(image.width() * scale, image.height() * scale,
                             Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.FastTransformation)
    return QPixmap.fromImage(image)
