"""Building blocks of the parser shared by the subcommands.

Options of the config dataclasses (:class:`~aestudio.core.config.DataConfig`,
:class:`~aestudio.core.config.TrainConfig`) become flags generated from their fields, so
that a default, a help text or a list of choices is written once, in the config. Ranges are
left to the config's own validation, which raises :class:`~aestudio.core.errors.ConfigError`.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def add_command(sub, name: str, func: Callable[[argparse.Namespace], int], help: str,
                description: str | None = None) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` running ``func`` and return its parser."""
    p = sub.add_parser(name, help=help, description=description or help)
    p.set_defaults(func=func)
    return p


def device_option(p: argparse.ArgumentParser, default: str | None = "auto") -> None:
    """Add ``--device``."""
    p.add_argument("--device", default=default, choices=DEVICE_CHOICES,
                   help="compute device (auto: CUDA, then Apple MPS, then CPU)")


def overwrite_option(p: argparse.ArgumentParser) -> None:
    """Add ``--overwrite``: without it an existing output file is refused."""
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def unit_interval(text: str) -> float:
    """An argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1; got {text}")
    return value


def flag_name(field_name: str) -> str:
    """The flag of a config field: ``batch_size`` -> ``--batch-size``."""
    return "--" + field_name.replace("_", "-")


def _plain_type(annotation: Any) -> Any:
    """``float | None`` -> ``float``; other annotations unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return annotation


def add_config_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type,
                       skip: Collection[str] = (),
                       extra_help: Mapping[str, str] | None = None) -> list[str]:
    """Add one flag per field of the config dataclass ``cls``.

    Every flag defaults to ``None`` (not given), so that a command can tell what was typed
    from what the config's default supplies; the help text shows the config's default.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where the flags go.
    cls : type
        A config dataclass whose fields are declared with :func:`aestudio.core.config.option`.
    skip : collection of str
        Field names that get no flag (a command may take them as positional arguments).
    extra_help : mapping of str to str, optional
        Words added to a field's help on the command line, by field name.

    Returns
    -------
    list of str
        The names of the fields that got a flag (the ``dest`` of each).

    Raises
    ------
    TypeError
        When a field's type has no command-line form.
    """
    hints = typing.get_type_hints(cls)
    names = []
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        meta = field.metadata
        kind = _plain_type(hints[field.name])
        text = meta.get("help", "") + (" " + extra_help[field.name]
                                       if extra_help and field.name in extra_help else "")
        shown = "not set" if field.default is None else field.default
        if kind is bool:
            shown = "on" if field.default else "off"
        # argparse formats help with %, so a literal percent sign is doubled.
        text = f"{text} (default: {shown})".replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": field.name, "default": None, "help": text}
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind in (int, float, str):
            kwargs["type"] = kind
            kwargs["metavar"] = field.name.upper()
            if "choices" in meta:
                kwargs["choices"] = tuple(meta["choices"])
                kwargs.pop("metavar")
        else:
            raise TypeError(f"{cls.__name__}.{field.name}: no command-line form for {kind!r}")
        parser.add_argument(flag_name(field.name), **kwargs)
        names.append(field.name)
    return names


def given(args: argparse.Namespace, names: Collection[str]) -> dict[str, Any]:
    """The values of the flags in ``names`` that were given on the command line."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
