"""`make bench`: one table with every workload of issue 5 and the app's rerun timings.

Usage: python -m bench [--skip-app]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import time

import numpy as np

from bench import kernels


def spec_checks_seconds() -> tuple[float, int]:
    """Run every topic's spec checks (the spec's numerical gradient checks) once; total seconds and count."""
    from derivations.catalog import TOPICS

    started = time.perf_counter()
    for topic in TOPICS.values():
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(topic.spec_check, f"<spec check {topic.key}>", "exec"), {"__name__": "spec_check"})
    return time.perf_counter() - started, len(TOPICS)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:9.2f}"


def print_kernel_table(rows: list[kernels.Row], matmul_rate: float) -> None:
    header = f"{'workload':34} {'shape':52} {'naive ms':>9} {'fast ms':>9} {'torch ms':>9} {'fast/torch':>10}  goal"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:10.2f}"
        print(f"{row.workload:34} {row.shape:52} {_ms(row.naive)} {_ms(row.fast)} {_ms(row.torch)} {ratio:>10}"
              f"  {row.goal}")
        if row.gflops is not None:
            print(f"{'':34} -> {row.gflops:.1f} GFLOP/s = {row.matmul_fraction:.0%} of numpy.matmul "
                  f"({matmul_rate:.1f} GFLOP/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-app", action="store_true", help="leave out the Streamlit AppTest timings")
    args = parser.parse_args()
    print(f"Backprop Explorer benchmark - {platform.processor() or platform.machine()}, numpy {np.__version__}, "
          f"PyTorch {kernels.torch_version()}; float64; medians after warm-up")
    matmul_rate = kernels.matmul_gflops()
    rows = [
        kernels.conv_row("conv fwd+bwd, fast", "<= PyTorch", 16, 16, 32, 32, 32, 3, 1, 1, matmul_rate),
        kernels.conv_row("conv fwd+bwd, fast, strided", "<= PyTorch", 16, 16, 32, 32, 32, 4, 2, 1, matmul_rate),
        kernels.pool_row(16, 16, 32, 32, 2, 2),
        kernels.pool_row(16, 16, 32, 32, 3, 1),
        kernels.batchnorm_row(),
        kernels.recurrent_row("LSTM"),
        kernels.recurrent_row("RNN"),
        kernels.conv_row("conv fast vs naive", ">= 100x faster than naive", 4, 3, 16, 16, 8, 3, 1, 1,
                         matmul_rate, with_naive=True),
    ]
    print_kernel_table(rows, matmul_rate)
    speedup = rows[-1].naive / rows[-1].fast
    print(f"\nconv fast vs naive: {speedup:.0f}x faster (goal >= 100x)")
    seconds, count = spec_checks_seconds()
    print(f"all spec checks ({count} topics, forward checks and numerical gradient checks): "
          f"{seconds:.2f} s (goal < 2 s)")
    if not args.skip_app:
        from bench.app_timing import measure, print_table

        print("\nStreamlit app (AppTest), per topic at default sizes:")
        print_table(measure())


if __name__ == "__main__":
    main()
