"""Torch-free constants shared by the engine, the command line and the studio.

Kept free of heavy imports so that the UI can read them at start-up.
"""

from __future__ import annotations

#: Suffix of an aestudio model file (safetensors weights with a JSON description).
MODEL_SUFFIX = ".aemodel"

#: ITU-R BT.601 luma weights of R, G and B (the Y of YCbCr as JPEG uses it).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

#: Tiles of full-resolution inference are never halved below this side on out-of-memory.
MIN_TILE = 64

#: Prefix and suffix of the temporary files atomic writes make beside their target.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".aestudio-tmp"
