"""Command line: write a topic's (or the whole assignment's) write-up to a file.

    python -m derivations.export --layer batchnorm --format pdf --output bn.pdf --set N=8 --seed 3
    python -m derivations.export --layer all --format tex --output solutions.tex

A bad option value (unknown layer, field or format, a value out of bounds) prints
one line naming it and exits with code 2, like any other usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from derivations.export import FORMATS, document
from derivations.export.content import configs_for


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """``["N=4", "eps=1e-5"]`` -> ``{"N": "4", "eps": "1e-5"}``; ValueError for a pair without ``=``."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set {pair!r} is not NAME=VALUE (for example --set N=4)")
        values[name.strip()] = value.strip()
    return values


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m derivations.export", description=__doc__.splitlines()[0])
    cli.add_argument("--layer", required=True, help="a catalog key (batchnorm, conv, ...) or 'all'")
    cli.add_argument("--format", required=True, choices=FORMATS, help="document format")
    cli.add_argument("--output", required=True, type=Path, help="file to write")
    cli.add_argument("--seed", default="0", help="seed of the random inputs (default 0)")
    cli.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="a dimension or hyper-parameter, e.g. --set N=4 --set D=5 (repeatable)")
    return cli


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    try:
        configs = configs_for(args.layer, parse_sets(args.set), seed=args.seed)
    except ValueError as error:
        cli.exit(2, f"{cli.prog}: error: {error}\n")
    start = time.perf_counter()
    content = document(args.format, configs)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(data)
    except OSError as error:
        cli.exit(1, f"{cli.prog}: error: cannot write {args.output}: {error.strerror}\n")
    seconds = time.perf_counter() - start
    print(f"wrote {args.output} ({len(data)} bytes, {len(configs)} topic(s), {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
