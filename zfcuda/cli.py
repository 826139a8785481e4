"""The ``zfcuda`` command."""

from __future__ import annotations

import argparse
import sys


def _info(_: argparse.Namespace) -> int:
    import torch

    import zfcuda

    info = zfcuda.build_info()
    print(f"zfcuda built against torch {info['torch_version']} (running torch {torch.__version__})")
    if info["cuda"]:
        print(f"CUDA kernels: yes (CUDA {info['cuda_version']}, architectures {info['cuda_architectures']})")
    else:
        print("CUDA kernels: no (CPU kernels only)")
    print(f"GPU visible now: {torch.cuda.is_available()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zfcuda", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="what the compiled extension holds").set_defaults(run=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
