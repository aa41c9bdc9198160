"""``workbench attention ...`` end to end (JSON summaries, netCDF output, one-line errors)."""

import json

import numpy as np
import pytest

from workbench import results
from workbench.cli import main

TEXT = "The cat sat on the mat."


def run(capsys, *argv):
    code = main(["attention", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_maps_json_and_netcdf(capsys, tmp_path):
    path = tmp_path / "maps.nc"
    code, out, _ = run(capsys, "maps", "--text", TEXT, "--json", "--out", str(path), "--layer", "1", "--head", "2",
                       "--window", "3")
    assert code == 0
    summary = json.loads(out)
    assert summary["tokens"] == ["[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"]
    assert summary["max_row_sum_error"] < 1e-5
    assert 0 <= summary["bdi_fraction_heads"] <= 1
    ds = results.load(path)
    assert ds["attention"].dims == ("layer", "head", "query", "key")
    np.testing.assert_allclose(np.asarray(summary["map"]), ds["attention"].isel(layer=1, head=2).values, atol=1e-4)


def test_variants_json(capsys):
    code, out, _ = run(capsys, "variants", "--text", TEXT, "--window", "3", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["relative_error_to_full"]["full"] == 0.0
    assert summary["max_map_residual"] < 1e-5


def test_dispersion_json(capsys, tmp_path):
    code, out, _ = run(capsys, "dispersion", "--n", "64:256:3", "--log-spaced", "--variants", "full,sliding",
                       "--heads", "1", "--max-rows", "16", "--window", "8", "--json", "--out", str(tmp_path / "d.nc"))
    summary = json.loads(out)
    assert code == 0 and summary["n"] == [64, 128, 256]
    assert all(w >= 1 / 8 - 1e-6 for w in summary["max_weight"]["sliding"])
    assert results.load(tmp_path / "d.nc")["max_weight"].dims == ("variant", "n")


@pytest.mark.parametrize("argv, words", [
    (["maps", "--text", "  "], "text must not be empty"),
    (["maps", "--text", "a " * 600], "at most 512 positions"),
    (["maps", "--text", TEXT, "--layer", "9", "--head", "0"], "layer must be in [0, 5]"),
    (["variants", "--text", TEXT, "--window", "50"], "window must be in [1, 17]"),
    (["variants", "--text", TEXT, "--variants", "full,magic"], "variant must be one of"),
    (["dispersion", "--n", "64,128", "--window", "100"], "window must be in [1, 64]"),
])
def test_errors_are_one_line_exit_2(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1


def test_replace_json_and_netcdf(capsys, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("The cat sat on the mat.\nA dog chased the ball.\nRain is expected tomorrow.\n", encoding="utf-8")
    code, out, _ = run(capsys, "replace", "--variant", "block", "--layers", "1-2", "--window", "3",
                       "--texts", str(texts), "--json", "--out", str(tmp_path / "r.nc"))
    summary = json.loads(out)
    assert code == 0 and summary["layers"] == [1, 2] and summary["n_texts"] == 3
    # layer 0 runs before any replaced layer: unchanged bit for bit; replaced layers carry an error
    assert summary["hidden_change_per_layer"][0] == 0.0 and summary["attention_error_per_layer"][0] == 0.0
    assert summary["attention_error_per_layer"][1] > 0 and 0 < summary["embedding_cosine_min"] <= 1
    assert results.load(tmp_path / "r.nc")["hidden_change"].dims == ("text", "layer")


def test_replace_full_text(capsys):
    code, out, _ = run(capsys, "replace", "--variant", "full", "--text", TEXT, "--json")
    summary = json.loads(out)
    assert code == 0 and max(summary["hidden_change_per_layer"]) == 0.0
    assert summary["similarity_spearman"] is None   # one text: no pairs to rank


def test_rollout_json(capsys, tmp_path):
    code, out, _ = run(capsys, "rollout", "--text", TEXT, "--json", "--out", str(tmp_path / "r.nc"))
    summary = json.loads(out)
    assert code == 0 and summary["n_tokens"] == 9
    assert abs(sum(summary["rollout_cls_last_layer"]) - 1) < 1e-4   # rollout rows stay distributions
    assert len(summary["flow_cls"]) == 9 and summary["flow_cls"][0] <= 1 + 1e-6
    ds = results.load(tmp_path / "r.nc")
    assert ds["rollout"].dims == ("layer", "query", "key") and ds["entropy"].dims == ("layer", "head")


@pytest.mark.parametrize("argv, content, words", [
    (["replace", "--variant", "sliding", "--window", "3", "--texts"], b"ok\n\xff\n", "texts file is not UTF-8"),
    (["replace", "--variant", "linear", "--texts"], b"x" * (1 << 20 | 1), "at most 1048576 are accepted"),
    (["replace", "--variant", "linear", "--texts"], b"x" * 20_001, "texts[0] has 20001 characters"),
])
def test_replace_bad_files(capsys, tmp_path, argv, content, words):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    code, _, err = run(capsys, *argv, str(path))
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, words", [
    (["replace", "--variant", "linear", "--layers", "7", "--text", TEXT], "layers must be in [0, 5]"),
    (["replace", "--variant", "sliding", "--window", "0", "--text", TEXT], "window must be in [1, 17]"),
    (["replace", "--variant", "block", "--window", "10", "--text", TEXT], "window must be in [1, 9]"),
    (["replace", "--variant", "magic", "--text", TEXT], "variant must be one of"),
    (["replace", "--variant", "linear", "--text", TEXT, "--texts", "x.txt"], "not both"),
    (["replace", "--variant", "linear", "--text", "x" * 20_001], "text has 20001 characters"),
    (["rollout", "--text", "y" * 20_001], "text has 20001 characters"),
    (["rollout", "--text", " "], "text must not be empty"),
])
def test_replace_rollout_errors(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


LONG = " ".join(["the cat sat on a warm mat while rain fell over the quiet town"] * 50)   # 700 words, 702 positions


def test_variants_and_dispersion_past_the_window(capsys, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(LONG, encoding="utf-8")
    code, out, _ = run(capsys, "variants", "--text-file", str(path), "--long", "--overlap", "100",
                       "--variants", "full,sliding", "--window", "1403", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["n_tokens"] == 702 and summary["segments"] == 2
    # a centred band of 2n - 1 = 1403 keys is full attention: the same output up to rounding
    assert summary["relative_error_to_full"]["full"] == 0.0 and summary["relative_error_to_full"]["sliding"] < 1e-5
    code, out, _ = run(capsys, "dispersion", "--source", "model", "--text-file", str(path), "--n", "64,702",
                       "--variants", "full,sliding", "--window", "8", "--max-rows", "16", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["n"] == [64, 702] and min(summary["max_weight"]["sliding"]) >= 1 / 8 - 1e-6


@pytest.mark.parametrize("argv, words", [
    (["variants", "--text", LONG], "or pass --long"),
    (["variants", "--text", TEXT, "--text-file", "x.txt"], "not both"),
    (["variants", "--window", "3"], "give --text or --text-file"),
    (["variants", "--text", LONG, "--long", "--variants", "block", "--window", "750"], "window must be in [1, 702]"),
    (["variants", "--text", LONG, "--long", "--segment", "600"], "segment must be in [1, 510]"),
    (["variants", "--text", LONG, "--long", "--overlap", "300"], "overlap must be in [0, 255]"),
    (["dispersion", "--source", "model", "--text", LONG, "--n", "64,1000"], "n must be in [2, 702]"),
    (["dispersion", "--text", TEXT, "--n", "64"], "text is only read with source 'model'"),
    (["dispersion", "--source", "model", "--text", "z" * 20_001], "text has 20001 characters"),
])
def test_long_input_errors(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, words", [
    (b"fine \xff bad", "text file is not UTF-8 (invalid byte at offset 5)"),
    (b"z" * 20_001, "text has 20001 characters"),
])
def test_long_input_bad_files(capsys, tmp_path, content, words):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    code, _, err = run(capsys, "variants", "--long", "--text-file", str(path))
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
