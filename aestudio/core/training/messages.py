"""Plain types a training run is asked with and reports through, besides the core events.

Torch-free, so that the studio's panels and other views can hold and compare them on the
UI thread while the engine runs elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aestudio.core.config import DataConfig, TrainConfig

if TYPE_CHECKING:
    from aestudio.core.events import Snapshot

#: At most this many skipped files are named in a :class:`DataReady` report.
MAX_SKIPPED_REPORTED = 50
#: Seconds between weight snapshots of an autoencoder run (a live latent map follows them).
LIVE_SNAPSHOT_SECONDS = 1.0


@dataclass(frozen=True)
class TrainRequest:
    """A training run to do: a new model, or a model file to continue.

    For a new model, ``model`` / ``model_options`` / ``data`` / ``train`` / ``out`` define
    the run. With ``resume_from`` the job stored in that file is continued instead, with
    ``train_overrides`` applied to its training options; ``folder`` replaces the stored data
    folder when that one no longer exists.
    """

    model: str = ""
    model_options: dict[str, Any] = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out: str | None = None
    resume_from: str | None = None
    train_overrides: dict[str, Any] = field(default_factory=dict)
    folder: str | None = None
    snapshot_seconds: float = LIVE_SNAPSHOT_SECONDS  # autoencoders only; 0: none


@dataclass(frozen=True)
class DataReady:
    """The training images are in memory; reports what was used and what was skipped."""

    folder: str
    n_train: int
    n_val: int
    channels: int
    bit_depth: int
    skipped: tuple[tuple[str, str], ...]  # (path, reason), at most MAX_SKIPPED_REPORTED
    skipped_count: int
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ResumeInfo:
    """A run continues a model file: its earlier loss history, for the curves."""

    path: str
    step: int
    folder: str
    task: str
    history: dict[str, list[list[float]]]


@dataclass(frozen=True)
class RunArchitecture:
    """The model a run trains, as ``create_model(model, **options)`` rebuilds it.

    ``options`` include the channels and image size the data gave (as the trainer's
    ``build_model`` sets them); ``folder`` is the run's image folder.
    """

    model: str
    kind: str
    options: dict[str, Any]
    folder: str


@dataclass(frozen=True)
class LiveSnapshot:
    """A run's weights at one step, for views that follow the training (the latent map).

    ``run`` tells runs apart (it grows with each run a panel starts); ``state`` is the
    engine's :class:`~aestudio.core.events.Snapshot` state: CPU tensors owned by it.
    """

    run: int
    step: int
    model: str
    options: dict[str, Any]
    folder: str
    state: dict[str, Any]

    @classmethod
    def of(cls, run: int, architecture: RunArchitecture, snapshot: Snapshot) -> LiveSnapshot:
        """Join a run's :class:`RunArchitecture` and one of its weight snapshots.

        Parameters
        ----------
        run
            The run's number.
        architecture
            What rebuilds the run's model.
        snapshot
            The engine's weight copy at one step.
        """
        return cls(run, snapshot.step, architecture.model, dict(architecture.options),
                   architecture.folder, snapshot.state)
