"""Run mlpnet's benchmarks (the same as ``mlpnet bench``) and print the markdown tables.

    python benchmarks/run.py                 # everything, median of 3 runs
    python benchmarks/run.py --quick         # smaller sizes, one run: a smoke test
    python benchmarks/run.py minibatch online --repeats 5

PyTorch and scikit-learn are optional peers (``pip install torch==2.13.0 scikit-learn``); the
MNIST-based benchmarks read ../shared/data/mnist and fall back or skip without it.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mlpnet import bench  # noqa: E402

parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
)
parser.add_argument(
    "names", nargs="*", help=f"benchmarks to run (default all): {', '.join(bench.BENCHMARKS)}"
)
parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
args = parser.parse_args()
bench.run(args.names or None, quick=args.quick, repeats=args.repeats)
