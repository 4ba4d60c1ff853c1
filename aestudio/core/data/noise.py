"""Synthetic noise models for training and evaluating denoisers.

A noise model is written as a short spec string, the same in the CLI, in config files and in
the UI: ``"none"``, ``"gaussian:25"``, ``"poisson-gaussian:30,5"``, ``"camera"`` (a camera's
processing, :mod:`aestudio.core.data.camera_noise`), ``"salt-pepper:0.05"``,
``"speckle:0.2"``. :func:`parse_noise` reads it and ``str(model)`` writes it back.

Images are float tensors with values in [0, 1]; Gaussian sigmas are given on the 0-255 scale
because that is how denoising benchmarks quote them (sigma 25 means 25/255 here).

Randomness and devices: every random draw uses the ``generator`` passed to
:meth:`NoiseModel.apply`. Noise is drawn on the generator's device (CPU for the usual
``torch.Generator()``) and then moved to the image's device, so one seed gives the same noise
whether the image lives on the CPU or a GPU. Without a generator, noise is drawn on the
image's device from torch's global random state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from aestudio.core.data.noise_syntax import (
    NOISE_EXAMPLES,
    NOISE_KINDS,
    NOISE_PARAMS,
    NOISE_SYNTAX,
    PARAM_RANGES,
)
from aestudio.core.errors import NoiseSpecError

__all__ = ["NOISE_KINDS", "NOISE_SYNTAX", "NoiseModel", "NoiseSpecError", "parse_noise"]

# The syntax itself is torch-free data, shared with the studio's noise pickers.
_PARAM_NAMES = NOISE_PARAMS
_EXAMPLES = NOISE_EXAMPLES
# Kinds whose parameters may be left out: "camera" is "camera:1".
_OPTIONAL_DEFAULTS: dict[str, tuple[float, ...]] = {"camera": (1.0,), "mixed": (50.0,)}


def _format_number(value: float) -> str:
    # Integers print without ".0" so that "gaussian:25" round-trips as written; other values
    # use repr, which reads back to the identical float.
    return str(int(value)) if value.is_integer() else repr(value)


def _check_params(kind: str, params: tuple[float, ...]) -> None:
    names = _PARAM_NAMES[kind]
    if len(params) != len(names):
        if names:
            wanted = f"{len(names)} parameter{'s' if len(names) > 1 else ''} ({','.join(names)})"
        else:
            wanted = "no parameters"
        raise NoiseSpecError(f"{kind} takes {wanted}, got {len(params)}; e.g. '{_EXAMPLES[kind]}'")
    for name, value in zip(names, params, strict=True):
        if not math.isfinite(value):
            raise NoiseSpecError(f"{kind} {name} must be a finite number, got {value}")
        if value < 0:
            raise NoiseSpecError(f"{kind} {name} must be >= 0, got {_format_number(value)}")
    if kind == "poisson-gaussian" and params[0] == 0:
        raise NoiseSpecError("poisson-gaussian PEAK must be > 0 (photons at white), got 0")
    for name, value in zip(names, params, strict=True):
        low, high, _step = PARAM_RANGES[name]
        if not low <= value <= high:
            raise NoiseSpecError(f"{kind} {name} must be between {_format_number(low)} "
                                 f"and {_format_number(high)}, got {_format_number(value)}")
    if kind == "salt-pepper" and params[0] > 1:
        raise NoiseSpecError(
            f"salt-pepper FRACTION must be between 0 and 1, got {_format_number(params[0])}"
        )


def _normalise_kind(kind: str) -> str:
    if not isinstance(kind, str):
        raise NoiseSpecError(f"noise kind must be a string, got {type(kind).__name__}")
    key = kind.strip().lower().replace("_", "-")
    if key not in _PARAM_NAMES:
        raise NoiseSpecError(
            f"unknown noise '{kind.strip()}'; choose one of {', '.join(NOISE_KINDS)}"
        )
    return key


@dataclass(frozen=True)
class NoiseModel:
    """A noise kind with its parameters; apply it with :meth:`apply`.

    Parameters
    ----------
    kind : str
        One of :data:`NOISE_KINDS`.
    params : tuple of float
        The kind's parameters in spec order (see :data:`NOISE_SYNTAX`).

    Raises
    ------
    NoiseSpecError
        On an unknown kind, a wrong parameter count or an out-of-range value.
    """

    kind: str
    params: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        kind = _normalise_kind(self.kind)
        try:
            params = tuple(float(p) for p in self.params)
            if kind in _OPTIONAL_DEFAULTS and not params:
                params = _OPTIONAL_DEFAULTS[kind]
        except (TypeError, ValueError) as exc:
            raise NoiseSpecError(
                f"{kind} params must be a sequence of numbers, got {self.params!r}"
            ) from exc
        _check_params(kind, params)
        # Frozen dataclass: store the normalised values through object.__setattr__.
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "params", params)

    def __str__(self) -> str:
        if not self.params:
            return self.kind
        return f"{self.kind}:{','.join(_format_number(p) for p in self.params)}"

    def describe(self) -> str:
        """Return a one-line, human-readable description (for tooltips and logs).

        Returns
        -------
        str
            For example ``"Additive Gaussian noise, sigma 25/255"``.
        """
        p = self.params
        if self.kind == "gaussian":
            return f"Additive Gaussian noise, sigma {_format_number(p[0])}/255"
        if self.kind == "poisson-gaussian":
            return (
                f"Poisson shot noise, {_format_number(p[0])} photons at white, "
                f"plus Gaussian read noise sigma {_format_number(p[1])}/255"
            )
        if self.kind == "camera":
            return (f"Camera noise (mosaic, shot and read noise, demosaicing, tone curve, "
                    f"sometimes JPEG), strength {_format_number(p[0])}")
        if self.kind == "mixed":
            return (f"A different noise for every image (Gaussian, Poisson-Gaussian or a "
                    f"camera's), up to sigma {_format_number(p[0])}/255")
        if self.kind == "salt-pepper":
            return f"Salt-and-pepper noise, {100 * p[0]:g}% of pixels set to black or white"
        if self.kind == "speckle":
            return f"Multiplicative speckle noise x*(1+n), n ~ N(0, {_format_number(p[0])}^2)"
        return "No noise"

    def apply(
        self,
        x: torch.Tensor,
        generator: torch.Generator | None = None,
        *,
        clip: bool = True,
    ) -> torch.Tensor:
        """Return a noisy copy of ``x``.

        Parameters
        ----------
        x : torch.Tensor
            Floating-point image(s) with values in [0, 1], usually (N, C, H, W). Any shape
            works; for salt-and-pepper the channel axis is taken to be ``-3`` when ``x`` has
            at least three dimensions, so a pixel is hit in all its channels at once.
        generator : torch.Generator, optional
            Source of all random draws. Noise is drawn on the generator's device and moved to
            ``x.device``, so the same seed gives the same noise on any device. Without one,
            torch's global random state on ``x.device`` is used.
        clip : bool, default True
            Clamp the result to [0, 1], as real photos are clipped. The classic denoising
            benchmarks add Gaussian noise without clipping: pass False for their figures.

        Returns
        -------
        torch.Tensor
            A new tensor with the shape, dtype and device of ``x``; ``x`` is not modified.
        """
        if not x.is_floating_point():
            raise TypeError(f"noise needs a floating-point image, got dtype {x.dtype}")
        draw_device = generator.device if generator is not None else x.device

        def randn() -> torch.Tensor:
            noise = torch.randn(x.shape, generator=generator, device=draw_device)
            return noise.to(device=x.device, dtype=x.dtype)

        if self.kind == "gaussian":
            noisy = x + (self.params[0] / 255.0) * randn()
        elif self.kind == "poisson-gaussian":
            peak, sigma = self.params
            # Poisson rates must be >= 0; values a hair below zero (from earlier
            # processing) count as black rather than raising.
            rate = x.detach().to(device=draw_device, dtype=torch.float32).clamp_min(0) * peak
            counts = torch.poisson(rate, generator=generator)
            noisy = counts.to(device=x.device, dtype=x.dtype) / peak
            if sigma > 0:
                noisy = noisy + (sigma / 255.0) * randn()
        elif self.kind == "camera":
            from aestudio.core.data.camera_noise import camera_noise

            batch = x if x.dim() == 4 else x.reshape(-1, *x.shape[-3:])
            noisy = camera_noise(batch, self.params[0], generator).reshape(x.shape)
        elif self.kind == "mixed":
            from aestudio.core.data.mixed_noise import mixed_noise

            batch = x if x.dim() == 4 else x.reshape(-1, *x.shape[-3:])
            noisy = mixed_noise(batch, self.params[0], generator).reshape(x.shape)
        elif self.kind == "salt-pepper":
            noisy = self._salt_pepper(x, generator, draw_device)
        elif self.kind == "speckle":
            noisy = x * (1.0 + self.params[0] * randn())
        else:
            noisy = x.clone()
        return noisy.clamp(0.0, 1.0) if clip else noisy

    def _salt_pepper(
        self, x: torch.Tensor, generator: torch.Generator | None, draw_device: torch.device
    ) -> torch.Tensor:
        fraction = self.params[0]
        mask_shape = list(x.shape)
        if x.dim() >= 3:
            mask_shape[-3] = 1  # one draw per pixel, shared by its channels
        # One uniform draw decides both: u < f/2 -> white (salt), f/2 <= u < f -> black.
        u = torch.rand(mask_shape, generator=generator, device=draw_device).to(x.device)
        salt = u < fraction / 2
        pepper = (u >= fraction / 2) & (u < fraction)
        noisy = x.masked_fill(salt, 1.0)
        return noisy.masked_fill(pepper, 0.0)


def parse_noise(spec: str) -> NoiseModel:
    """Read a noise spec string such as ``"gaussian:25"`` or ``"poisson-gaussian:30,5"``.

    Parameters
    ----------
    spec : str
        ``KIND`` or ``KIND:P1[,P2]``; see :data:`NOISE_SYNTAX`. Case and surrounding spaces
        are ignored; ``str(parse_noise(spec))`` gives the canonical form.

    Returns
    -------
    NoiseModel

    Raises
    ------
    NoiseSpecError
        With a message that names the problem and shows a valid example.
    """
    if not isinstance(spec, str):
        raise NoiseSpecError(f"noise spec must be a string, got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise NoiseSpecError(f"empty noise spec; choose one of {', '.join(NOISE_KINDS)}")
    kind_text, sep, param_text = text.partition(":")
    kind = _normalise_kind(kind_text)
    params: list[float] = []
    if sep and param_text.strip():
        for item in param_text.split(","):
            try:
                params.append(float(item))
            except ValueError:
                raise NoiseSpecError(
                    f"could not read {item.strip()!r} as a number in noise spec {spec!r}; "
                    f"e.g. '{_EXAMPLES[kind]}'"
                ) from None
    return NoiseModel(kind, tuple(params))
