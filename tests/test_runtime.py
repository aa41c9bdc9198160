import pytest
import torch

from workbench import runtime


def test_cpu_always_resolves(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    assert runtime.resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert runtime.resolve_device().type == expected
    assert runtime.resolve_device("auto").type == expected


def test_environment_variable_overrides_default(monkeypatch):
    monkeypatch.setenv("WORKBENCH_DEVICE", "cpu")
    assert runtime.resolve_device() == torch.device("cpu")
    monkeypatch.setenv("WORKBENCH_DEVICE", "tpu")
    with pytest.raises(ValueError, match="WORKBENCH_DEVICE must be one of"):
        runtime.resolve_device()
    # the argument wins over the environment
    assert runtime.resolve_device("cpu") == torch.device("cpu")


def test_unknown_device_names_the_parameter():
    with pytest.raises(ValueError, match=r"device must be one of 'auto', 'cpu', 'cuda'"):
        runtime.resolve_device("gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_requested_without_cuda_is_an_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        runtime.resolve_device("cuda")


def test_dtype():
    assert runtime.resolve_dtype() in (torch.float32, torch.float64)
    assert runtime.resolve_dtype("float64") is torch.float64
    with pytest.raises(ValueError, match="dtype must be one of"):
        runtime.resolve_dtype("float16")


def test_generator_is_reproducible():
    a = torch.randn(5, generator=runtime.generator(7, "cpu"))
    b = torch.randn(5, generator=runtime.generator(7, "cpu"))
    c = torch.randn(5, generator=runtime.generator(8, "cpu"))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_budget(monkeypatch):
    monkeypatch.setenv("WORKBENCH_QUICK", "1")
    assert runtime.budget(100, 3) == 3
    monkeypatch.setenv("WORKBENCH_QUICK", "0")
    assert runtime.budget(100, 3) == 100


def test_info_keys():
    info = runtime.info("cpu")
    assert {"device", "torch", "version", "cpu_threads"} <= set(info)
    assert info["device"] == "cpu"
    assert info["torch"] == torch.__version__


@pytest.mark.gpu
def test_info_reports_gpu():
    info = runtime.info("cuda")
    assert info["gpu_name"] and info["gpu_memory_gib"] > 0
