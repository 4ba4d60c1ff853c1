"""A file of many pages: the first is denoised and the person is told the rest were left out."""

from __future__ import annotations

import numpy as np
import tifffile

from aestudio.cli import main
from aestudio.core.models import create_model
from aestudio.core.models.modelfile import save_model_file


def test_a_multi_page_tiff_says_only_its_first_page_is_denoised(tmp_path, capsys) -> None:
    pages = tmp_path / "scan.tif"
    tifffile.imwrite(pages, np.random.default_rng(0).integers(0, 255, (1000, 24, 24),
                                                             dtype=np.uint8))
    model = save_model_file(tmp_path / "d.aemodel",
                            create_model("denoiser", channels=1, width=8, depth=1).eval())
    capsys.readouterr()
    assert main(["denoise", str(model), str(pages), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"note: {pages}: it has 1000 pages; only the first was denoised" in err
    written = tifffile.imread(tmp_path / "out" / "scan.tif")
    assert written.shape == (24, 24)
