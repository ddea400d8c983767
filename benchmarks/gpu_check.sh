#!/usr/bin/env bash
# Issue 14's GPU check: the `gpu` tests, then benchmarks/gpu.py, all output into one file.
#
#   benchmarks/gpu_check.sh --prepare   # on the dev machine: copy the pure-Python packages a bare
#                                       # GPU machine may lack (array-api-compat, pytest, …) to .gpu_deps/
#   benchmarks/gpu_check.sh [FILE]      # on the CUDA machine, from anywhere in the repository;
#                                       # FILE defaults to ${OUT:-.}/gpu_check.txt
#
# Takes about 3–5 minutes on an H100, at most 9 (each part has its own time limit: the torch-CUDA
# tests 120 s, the benchmark 330 s, the CuPy backend tests 75 s). Extra
# arguments for benchmarks/gpu.py go in GPU_BENCH_ARGS, e.g. GPU_BENCH_ARGS="--repeats 3".
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ "${1:-}" = "--prepare" ]; then
  rm -rf .gpu_deps && mkdir -p .gpu_deps
  "$PY" - <<'PYEOF'
import importlib, os, shutil
for name in ("array_api_compat", "pytest", "_pytest", "pluggy", "iniconfig", "packaging",
             "py", "threadpoolctl", "hypothesis", "attr", "attrs", "sortedcontainers", "tomli",
             "exceptiongroup"):
    try:
        path = importlib.import_module(name).__file__
    except ImportError:
        continue
    src = os.path.dirname(path) if path.endswith("__init__.py") else path
    dst = os.path.join(".gpu_deps", os.path.basename(src))
    (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)
    print("copied", name)
PYEOF
  exit 0
fi

out=${1:-${OUT:-.}/gpu_check.txt}
# use a copied package only where this machine's Python lacks it (its own versions fit it better)
deps=$(mktemp -d)
trap 'rm -rf "$deps"' EXIT
for path in .gpu_deps/*; do
  [ -e "$path" ] || continue
  name=$(basename "$path" .py)
  "$PY" -c "import $name" 2>/dev/null || ln -s "$PWD/$path" "$deps/"
done
export PYTHONPATH="$PWD/src:$deps${PYTHONPATH:+:$PYTHONPATH}"
{
  echo "# mlpnet GPU check, $(date -u +%FT%TZ), commit ${MLPNET_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  "$PY" -c "import sys, numpy, torch, array_api_compat as c; print('python', sys.version.split()[0], '| numpy', numpy.__version__, '| torch', torch.__version__, '| array-api-compat', c.__version__, '| cuda', torch.cuda.is_available())" 2>&1
  echo "## gpu tests: torch on CUDA (tests/test_gpu.py, the EpochGraph replays)"
  timeout 120 "$PY" -m pytest -q -p no:cacheprovider -m gpu -rs tests/test_gpu.py tests/test_epoch_graph.py 2>&1 | tail -40
  echo "## benchmarks/gpu.py"
  # shellcheck disable=SC2086
  timeout 330 "$PY" benchmarks/gpu.py ${GPU_BENCH_ARGS:-} 2>&1
  echo "## gpu tests: the cupy backend (tests/test_backends.py; CuPy compiles each kernel on first use)"
  timeout 75 "$PY" -m pytest -q -p no:cacheprovider -m gpu -rs tests/test_backends.py 2>&1 | tail -25
  echo "# done $(date -u +%FT%TZ)"
} | tee "$out"
