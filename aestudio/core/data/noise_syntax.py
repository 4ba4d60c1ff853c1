"""The noise spec syntax as plain data: kinds, parameter names, examples and help text.

Torch-free, so that the studio can build its noise pickers before the engine is loaded;
:mod:`aestudio.core.data.noise` parses and applies specs written in this syntax.
"""

from __future__ import annotations

__all__ = [
    "NOISE_EXAMPLES",
    "NOISE_KINDS",
    "NOISE_PARAMS",
    "NOISE_SYNTAX",
    "PARAM_RANGES",
    "noise_defaults",
]

NOISE_KINDS: tuple[str, ...] = ("none", "gaussian", "poisson-gaussian", "camera", "mixed",
                                "salt-pepper", "speckle")

#: Parameter names per kind, in spec order; also the source of the error messages.
NOISE_PARAMS: dict[str, tuple[str, ...]] = {
    "none": (),
    "gaussian": ("SIGMA",),
    "poisson-gaussian": ("PEAK", "SIGMA"),
    "camera": ("STRENGTH",),
    "mixed": ("MAX",),
    "salt-pepper": ("FRACTION",),
    "speckle": ("STD",),
}

#: Ranges (low, high, step) of the parameters for the studio's pickers; step 0 means 1-2-5
#: steps, for values spanning orders of magnitude.
PARAM_RANGES: dict[str, tuple[float, float, float]] = {
    "SIGMA": (0.0, 255.0, 1.0),
    "PEAK": (0.01, 1e6, 0.0),
    "FRACTION": (0.0, 1.0, 0.01),
    "STD": (0.0, 10.0, 0.05),
    "STRENGTH": (0.0, 4.0, 0.1),
    "MAX": (1.0, 100.0, 1.0),
}

#: A typical spec of each kind (its parameters are sensible defaults).
NOISE_EXAMPLES: dict[str, str] = {
    "none": "none",
    "gaussian": "gaussian:25",
    "poisson-gaussian": "poisson-gaussian:30,5",
    "camera": "camera:1",
    "mixed": "mixed:50",
    "salt-pepper": "salt-pepper:0.05",
    "speckle": "speckle:0.2",
}

#: Syntax and meaning of each kind, for help text and UI tooltips before a model exists.
NOISE_SYNTAX: dict[str, str] = {
    "none": "none: no noise",
    "gaussian": "gaussian:SIGMA: additive Gaussian, SIGMA on the 0-255 scale (e.g. gaussian:25)",
    "poisson-gaussian": (
        "poisson-gaussian:PEAK,SIGMA: Poisson shot noise with PEAK photons at white, then "
        "Gaussian read noise SIGMA on the 0-255 scale (e.g. poisson-gaussian:30,5)"
    ),
    "camera": (
        "camera[:STRENGTH]: a camera's noise: shot and read noise on a Bayer mosaic, "
        "demosaicing, white balance, tone curve, clipping and sometimes JPEG, a different "
        "camera for every image; STRENGTH scales the noise (default 1, e.g. camera:1.5)"
    ),
    "mixed": (
        "mixed[:MAX]: a different noise for every image, for a denoiser meant for any photo: "
        "Gaussian, Poisson-Gaussian or a camera's, of any strength up to a standard deviation "
        "of MAX on the 0-255 scale (default 50, e.g. mixed:30)"
    ),
    "salt-pepper": (
        "salt-pepper:FRACTION: that fraction of pixels set to black or white "
        "(e.g. salt-pepper:0.05)"
    ),
    "speckle": "speckle:STD: multiplicative x*(1+n), n ~ N(0, STD^2) (e.g. speckle:0.2)",
}


def noise_defaults(kind: str) -> tuple[float, ...]:
    """The parameters of ``kind``'s example spec, e.g. ``(30.0, 5.0)`` for poisson-gaussian.

    Parameters
    ----------
    kind : str
        One of :data:`NOISE_KINDS`.

    Returns
    -------
    tuple of float
        One value per name in :data:`NOISE_PARAMS`.
    """
    _, _, params = NOISE_EXAMPLES[kind].partition(":")
    return tuple(float(v) for v in params.split(",")) if params else ()
