"""Latent maps: inverses, nearest points, neighbour accuracy, exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aestudio.core.data.pca import fit_pca
from aestudio.core.latent.codes import encode_folder
from aestudio.core.latent.export import read_table, save_gif, save_strip, write_table
from aestudio.core.latent.grid import grid_cells, grid_codes, grid_mosaic
from aestudio.core.latent.layouts import PointIndex
from aestudio.core.latent.map import build_map, nonlinear_status
from aestudio.core.latent.scores import knn_label_accuracy
from aestudio.core.models import create_model
from tests.conftest import make_digit_folder


def test_pca_inverse_is_exact_in_the_span() -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # two orthonormal directions in 6-D
    mean = rng.normal(size=6)
    coefficients = rng.normal(size=(200, 2)) * [3.0, 1.0]
    codes = mean + coefficients @ basis
    lm = build_map(codes, "pca")
    assert lm.exact and lm.layout == "pca"
    np.testing.assert_allclose(lm.to_code(lm.positions), codes, atol=1e-5)
    # A point between the data decodes to a code in the same plane.
    xy = np.array([0.3, -0.2])
    z = lm.to_code(xy).astype(np.float64)
    np.testing.assert_allclose(lm.to_map(z[None])[0], xy, atol=1e-5)
    fit = fit_pca(codes)
    assert fit.explained[:2].sum() == pytest.approx(1.0, abs=1e-9)


def test_pca_components_and_residual() -> None:
    codes = np.random.default_rng(1).normal(size=(300, 5)) * [5, 4, 3, 2, 1]
    lm = build_map(codes, "pca", axes=(1, 2))
    assert lm.axis_titles()[0].startswith("PC2")
    with_residual = build_map(codes, "pca", axes=(0, 1), add_residual=True)
    # On a point, the residual restores that point's own code.
    np.testing.assert_allclose(with_residual.to_code(with_residual.positions[7]), codes[7],
                               atol=1e-4)
    with pytest.raises(ValueError):
        build_map(codes, "pca", axes=(0, 0))
    with pytest.raises(ValueError):
        build_map(codes, "codes")


def test_two_number_codes_are_their_own_map() -> None:
    codes = np.random.default_rng(2).normal(size=(50, 2)).astype(np.float32)
    lm = build_map(codes)
    assert lm.layout == "codes" and lm.exact
    np.testing.assert_array_equal(lm.positions, codes)
    np.testing.assert_array_equal(lm.to_code((0.5, -1.25)), np.array([0.5, -1.25], np.float32))
    grid = grid_codes(lm, (0, 4), (0, 2), 2)
    np.testing.assert_allclose(grid, [[1, 1.5], [3, 1.5], [1, 0.5], [3, 0.5]])


@pytest.mark.parametrize("kind", ["gauss", "clusters", "duplicates", "line"])
def test_nearest_equals_brute_force(kind: str) -> None:
    rng = np.random.default_rng(3)
    points = {
        "gauss": rng.normal(size=(3000, 2)),
        "clusters": np.concatenate([rng.normal(size=(1500, 2)) * 0.01,
                                    rng.normal(size=(1500, 2)) * 5 + 20, [[1e4, -1e4]]]),
        "duplicates": rng.integers(0, 6, (400, 2)).astype(float),
        "line": np.column_stack([rng.normal(size=800), np.zeros(800)]),
    }[kind]
    index = PointIndex(points)
    queries = np.concatenate([rng.normal(size=(150, 2)) * 4, points[:40], [[500.0, 500.0]]])
    for k in (1, 5, 12):
        idx, dist = index.nearest(queries, k)
        brute = np.sqrt(((queries[:, None] - points[None]) ** 2).sum(-1))
        order = np.lexsort((np.broadcast_to(np.arange(len(points)), brute.shape), brute), axis=1)
        np.testing.assert_allclose(dist, np.take_along_axis(brute, order[:, :k], 1), atol=1e-12)
        if kind != "duplicates":
            np.testing.assert_array_equal(idx, order[:, :k])
    one_i, one_d = index.nearest(queries[0], 3)
    assert one_i.shape == (3,) and one_d[0] <= one_d[1] <= one_d[2]


def test_knn_accuracy_on_separable_and_random_data() -> None:
    rng = np.random.default_rng(4)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])
    labels = np.repeat(np.arange(4), 50)
    separable = centres[labels] + rng.normal(size=(200, 2))
    assert knn_label_accuracy(separable, labels, k=5) == 1.0
    shuffled = knn_label_accuracy(separable, rng.permutation(labels), k=5)
    assert shuffled < 0.5
    assert knn_label_accuracy(separable, [str(v) for v in labels], k=1) == 1.0


def test_approximate_layout_mixes_nearest_codes(monkeypatch) -> None:
    codes = np.random.default_rng(5).normal(size=(40, 4))
    import aestudio.core.latent.map as latent

    # A stand-in embedding keeps this test free of optional packages.
    monkeypatch.setattr(latent, "embed_nonlinear", lambda z, method, seed: z[:, :2] * 3.0)
    lm = latent.build_map(codes, "tsne")
    assert not lm.exact
    np.testing.assert_allclose(lm.to_code(lm.positions[4]), codes[4], atol=1e-5)
    mixed = lm.to_code(lm.positions[4] + 0.05)
    assert np.linalg.norm(mixed - codes[4]) < np.linalg.norm(codes[4] - codes).max()
    assert lm.to_map(codes) is None
    status = nonlinear_status()
    assert set(status) == {"tsne", "umap"}
    for reason in status.values():
        assert reason is None or "install" in reason


def test_table_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    codes = rng.normal(size=(12, 3)).astype(np.float32)
    positions = rng.normal(size=(12, 2))
    paths = [f"a/{i}, odd \"name\".png" for i in range(12)]
    labels = ["a"] * 6 + ["b"] * 6
    errors = rng.random(12).astype(np.float32)
    for suffix in (".csv", ".npy"):
        path = write_table(tmp_path / f"t{suffix}", codes, positions, paths, labels, errors)
        table = read_table(path)
        np.testing.assert_array_equal(table["codes"], codes)
        np.testing.assert_array_equal(table["positions"], positions)
        np.testing.assert_array_equal(table["error"], errors)
        assert list(table["path"]) == paths and list(table["label"]) == labels
    with pytest.raises(ValueError):
        write_table(tmp_path / "t.txt", codes, positions, paths, labels)


def test_encode_folder_and_strips(tmp_path: Path) -> None:
    folder = make_digit_folder(tmp_path / "d", per_label=5, size=16, labels=2)
    torch.manual_seed(0)
    model = create_model("vae", channels=1, image_size=16, latent_dim=3, width=4, hidden=16)
    data = encode_folder(model, folder, cache_dir=tmp_path / "cache")
    assert data.codes.shape == (10, 3) and data.errors.shape == (10,)
    assert data.label_names == ("0", "1") and (data.errors > 0).all()
    assert data.reconstructions is not None and data.reconstructions.dtype == np.uint8
    expected = model.eval()(torch.from_numpy(data.images[:1] / 255.0).float())[0, 0]
    np.testing.assert_allclose(data.reconstruction(0)[..., 0], expected.detach().numpy(),
                               atol=0.5 / 255 + 1e-6)
    lm = build_map(data.codes)
    assert lm.layout == "pca"
    tiles = np.random.default_rng(0).random((4, 16, 16, 1)).astype(np.float32)
    mosaic = grid_mosaic(tiles, 2)
    np.testing.assert_array_equal(mosaic[:16, 16:], tiles[1])
    save_strip(tiles, tmp_path / "s.png")
    save_gif(tiles, tmp_path / "s.gif")
    assert (tmp_path / "s.gif").read_bytes()[:3] == b"GIF"


def test_map_command_draws_a_png(tmp_path: Path) -> None:
    from PIL import Image

    from aestudio.cli import main
    from aestudio.core.latent.map_render import nice_ticks
    from aestudio.core.models.modelfile import save_model_file

    folder = make_digit_folder(tmp_path / "d", per_label=6, size=16, labels=3)
    torch.manual_seed(0)
    model = create_model("conv-ae", channels=1, image_size=16, latent_dim=2, width=4, hidden=16)
    path = save_model_file(tmp_path / "m.aemodel", model.eval())
    out = tmp_path / "map.png"
    assert main(["map", str(path), str(folder), "--out", str(out), "--size", "600"]) == 0
    with Image.open(out) as image:
        assert image.size == (600, 450)
        colours = {c for _, c in image.getcolors(1 << 16)}
    assert (0x33, 0x22, 0x88) in colours  # the first label's colour is drawn
    assert main(["map", str(path), str(folder), "--out", str(out), "--layout", "pca",
                 "--overwrite"]) == 0
    wide = create_model("conv-ae", channels=1, image_size=16, latent_dim=3, width=4, hidden=16)
    wide_path = save_model_file(tmp_path / "w.aemodel", wide.eval())
    # A 3-number code has no "codes" map: a one-line error, exit status 2.
    assert main(["map", str(wide_path), str(folder), "--out", str(out), "--layout",
                 "codes"]) == 2
    np.testing.assert_allclose(nice_ticks(0.0, 1.0, 5), [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(-7.3, 42.0) == [0.0, 10.0, 20.0, 30.0, 40.0]


def test_prior_spaced_grid_stays_aligned() -> None:
    centres, edges = grid_cells(-3.0, 3.0, 6, "prior")
    np.testing.assert_allclose(centres, -centres[::-1], atol=1e-9)  # symmetric
    widths = np.diff(edges)
    assert widths[2] < widths[0] and edges[0] == -3.0 and edges[-1] == 3.0
    _, uniform_edges = grid_cells(0.0, 4.0, 2)
    np.testing.assert_allclose(uniform_edges, [0, 2, 4])
    tiles = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    # With equal cells the stretched mosaic is the plain one.
    np.testing.assert_array_equal(grid_mosaic(tiles, 2, uniform_edges, uniform_edges),
                                  grid_mosaic(tiles, 2))
    # Unequal cells: the top-left tile fills the top-left cell's share of the image.
    warped = grid_mosaic(tiles, 2, np.array([0.0, 1.0, 4.0]), np.array([0.0, 3.0, 4.0]))
    assert warped.shape == (16, 16, 1)
    # That cell is a quarter of each side: 4 x 4 output pixels sample every other tile pixel.
    np.testing.assert_array_equal(warped[:4, :4], tiles[0][1::2, 1::2])
    # The bottom-right cell holds three quarters of each side, all from tile 3.
    assert np.isin(warped[4:, 4:], tiles[3]).all()
