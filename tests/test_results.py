import json

import numpy as np
import pytest
import torch
import xarray as xr

import workbench
from workbench import results


def make():
    x = torch.linspace(-1, 1, 7)
    t = torch.tensor([0.1, 0.2])
    u = x[None, :] ** 2 / (1 + 2 * t[:, None])
    return results.dataset({"u": (("t", "x"), u, {"units": "1", "long_name": "value"})},
                           coords={"t": t, "x": x},
                           params={"t": t, "n": 7, "flag": True, "name": "quad", "nested": {"a": 1}},
                           kind="test.quadratic", seed=3, device=torch.device("cpu"), elapsed=0.25)


def test_provenance_attrs():
    ds = make()
    assert ds.attrs["kind"] == "test.quadratic"
    assert ds.attrs["workbench"] == workbench.__version__
    assert ds.attrs["torch"] == torch.__version__
    assert ds.attrs["device"] == "cpu"
    assert ds.attrs["seed"] == 3
    assert ds.attrs["elapsed_s"] == 0.25
    assert ds.attrs["created"].endswith("+00:00")
    params = results.parameters(ds)
    assert params["n"] == 7 and params["flag"] is True and params["nested"] == {"a": 1}
    np.testing.assert_allclose(params["t"], [0.1, 0.2], rtol=1e-7)
    assert ds["u"].dims == ("t", "x") and ds["u"].attrs["units"] == "1"


def test_netcdf_round_trip_is_exact(tmp_path):
    ds = make()
    ds = ds.assign_coords(token=("x", [f"tok{i}" for i in range(7)]))
    ds.attrs["ok"] = True  # stamped later on save
    path = results.save(ds, tmp_path / "sub" / "r.nc")
    back = results.load(path)
    ds.attrs["ok"] = 1
    assert back.identical(ds)
    assert back.attrs == ds.attrs
    assert json.loads(back.attrs["parameters"]) == json.loads(ds.attrs["parameters"])


def test_stamp_keeps_existing_attrs_and_cleans_types():
    da = xr.DataArray(np.arange(3.0), dims="x", attrs={"units": "m", "flag": False, "none": None})
    out = results.stamp(da, {"a": np.float32(1.5)}, kind="k")
    assert out.attrs["units"] == "m" and out.attrs["flag"] == 0 and out.attrs["none"] == ""
    assert results.parameters(out) == {"a": 1.5}
    assert "kind" not in da.attrs  # the input is not modified


def test_unsupported_parameter_is_refused():
    with pytest.raises(TypeError, match="cannot store object"):
        results.dumps({"bad": object()})


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        results.load(tmp_path / "nope.nc")


def test_to_bytes_is_netcdf():
    data = results.to_bytes(make())
    assert data[:8] == b"\x89HDF\r\n\x1a\n"


def test_timer_measures():
    with results.timer() as t:
        sum(range(10000))
    assert 0 < t["elapsed"] < 5


def test_bit_flipped_file_is_refused_with_its_name(tmp_path):
    ds = make()
    path = results.save(ds, tmp_path / "r.nc")
    assert results.load(path).identical(ds)
    data = bytearray(path.read_bytes())
    at = bytes(data).find(ds["u"].values.astype("<f4").tobytes()[4:12])
    assert at > 0, "the raw values are stored uncompressed"
    data[at + 2] ^= 0x01  # one bit of one value
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"results file '.*r.nc' is corrupt"):
        results.load(path)


def test_damaged_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "r.nc"
    path.write_bytes(results.to_bytes(make())[:300])
    with pytest.raises(ValueError, match=r"results file '.*r.nc' cannot be read as netCDF"):
        results.load(path)


def test_save_errors_name_the_target_not_the_part_file(tmp_path):
    (tmp_path / "folder.nc").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        results.save(make(), tmp_path / "folder.nc")
    assert info.value.filename.endswith("folder.nc")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError) as info:
        results.save(make(), blocker / "r.nc")
    assert ".part" not in str(info.value) and "r.nc" in str(info.value.filename)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (skipped where mounting is not permitted)."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_disk_full_is_one_error_and_no_part_file(tiny_disk):
    big = xr.Dataset({"a": ("x", np.random.default_rng(0).random(300_000))})  # 2.4 MB > 1 MiB
    with pytest.raises(OSError, match="no space left") as info:
        results.save(big, tiny_disk / "big.nc")
    assert str(info.value.filename).endswith("big.nc")
    assert list(tiny_disk.iterdir()) == []
    # the estimate said no before writing; a file that passes the estimate but fills the disk midway
    (tiny_disk / "filler").write_bytes(b"\0" * 700_000)
    mid = xr.Dataset({"a": ("x", np.zeros(30_000))})  # 240 kB of data, more on disk with HDF5's layout
    try:
        results.save(mid, tiny_disk / "mid.nc")
    except OSError as exc:
        assert "no space left" in str(exc) and str(exc.filename).endswith("mid.nc")
    assert not [p for p in tiny_disk.iterdir() if p.name.endswith(".part")]


def test_disk_full_during_a_sweep_keeps_finished_chunks(tiny_disk):
    import subprocess
    import sys
    import textwrap

    # in a subprocess: a crash in the HDF5 library would otherwise end pytest itself
    script = textwrap.dedent(f"""
        import numpy as np, xarray as xr
        from workbench import sweep
        def chunk(params):
            a = np.asarray(params["a"], dtype=float)
            return xr.Dataset({{"v": (("point", "k"), np.repeat(a[:, None], 20_000, axis=1))}})
        sweep.run_sweep(chunk, {{"a": list(range(12))}}, chunk_size=1, checkpoint={str(tiny_disk / "ck")!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Segmentation" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("OSError: [Errno 28] no space left")
    files = sorted(p.name for p in (tiny_disk / "ck").iterdir())
    assert "chunk-00000.nc" in files and not [f for f in files if ".part" in f]
    from workbench import results as r
    assert float(r.load(tiny_disk / "ck" / "chunk-00000.nc")["v"][0, 0]) == 0.0
