"""The ``zfcuda`` command."""

from __future__ import annotations

import argparse
import sys

from .._utils.memory import keep_freed_memory
from ..atlas.command import add_atlas_command
from ..deconvnet.projection import RULES


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


def _train(args: argparse.Namespace) -> int:
    from ..training import TrainConfig, train

    options = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None}
    train(TrainConfig(**options))
    return 0


def _add_train(commands) -> None:
    from ..training import TrainConfig

    defaults = TrainConfig(data_dir="")
    p = commands.add_parser(
        "train",
        help="train ZF-Net with the paper's recipe (runs under torchrun for several processes)",
        description="Train ZF-Net on DATA_DIR/train/<class>/<image>, validating on DATA_DIR/val (or test).",
    )
    p.set_defaults(run=_train)
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out-dir", dest="out_dir", default=defaults.out_dir, help="checkpoints and the mean image go here")
    for name, kind, text in [
        ("epochs", int, "epochs in all"),
        ("batch_size", int, "global batch (split across processes)"),
        ("lr", float, "initial learning rate"),
        ("momentum", float, "SGD momentum"),
        ("weight_decay", float, "L2 weight decay"),
        ("width", float, "channel multiplier (1.0 = the paper)"),
        ("dropout", float, "dropout of fc6 and fc7"),
        ("renorm_radius", float, "largest RMS of a conv filter"),
        ("plateau_patience", int, "epochs without improvement before lr x0.1"),
        ("per_class", int, "use the first N training images per class"),
        ("val_per_class", int, "use the first N validation images per class"),
        ("val_crops", int, "crops per validation image: 1 (centre) or 10"),
        ("workers", int, "data-loading processes"),
        ("seed", int, "random seed"),
    ]:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=getattr(defaults, name), help=text)
    p.add_argument("--init", choices=["paper", "kaiming"], default=defaults.init, help="weight initialisation")
    p.add_argument("--snapshots", type=int, nargs="*", default=[], help="epochs at which to keep a snapshot")
    p.add_argument("--classes", nargs="+", default=None, help="train on these class folders only")
    p.add_argument("--device", default=defaults.device, help="auto, cpu or cuda")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    p.add_argument("--init-from", dest="init_from", default=None,
                   help="continue an exported model (e.g. the shipped one): its weights, mean image and epoch count")
    p.add_argument("--no-cache", dest="cache", action="store_false",
                   help="decode images every epoch instead of once into OUT_DIR (the cache needs N x 3 x S x S bytes)")


def _evaluate(args: argparse.Namespace) -> int:
    import json

    import torch
    from torch.utils.data import DataLoader

    from .._utils.progress import progress
    from ..data import ImageFolder, collate_skipping
    from ..training import evaluate

    loaded = _load_model(args.model)
    data = ImageFolder(args.data_dir, classes=loaded.classes, per_class=args.per_class)
    loader = DataLoader(data, batch_size=args.batch_size, num_workers=args.workers, collate_fn=collate_skipping)
    stats = evaluate(loaded.model, progress(loader, "evaluating"), loaded.mean, args.crops, torch.device("cpu"))
    print(json.dumps({"crops": args.crops, **stats}))
    return 0


def _export(args: argparse.Namespace) -> int:
    import json

    from ..models import pretrained

    metrics = json.loads(args.metrics) if args.metrics else None
    print(f"wrote {pretrained.export(args.checkpoint, args.out, metrics)}")
    return 0


def _load_model(path: str | None):
    from ..models import pretrained

    return pretrained.load(path) if path else pretrained.load()


def _deconv(args: argparse.Namespace) -> int:
    from .deconv_figures import deconv_figure
    from .viewed_models import load_view

    view = load_view(args.model)
    path = deconv_figure(view, args.image, args.layer or view.layers[-1], args.maps, args.out, overlay=not args.no_overlay, rule=args.rule)
    print(f"wrote {path}")
    return 0


def _top9(args: argparse.Namespace) -> int:
    from .._utils.distributed import teardown
    from ..data import ImageFolder
    from .deconv_figures import top9_figures
    from .viewed_models import load_view

    view = load_view(args.model)
    data = ImageFolder(args.data_dir, per_class=args.per_class)
    try:
        paths = top9_figures(view, data, args.layers or view.layers, args.maps, args.out, batch_size=args.batch_size, device=args.device,
                             checkpoint=args.checkpoint, resume=args.resume, rule=args.rule)
    finally:
        teardown()
    for path in paths:
        print(f"wrote {path}")
    return 0


MODEL_HELP = "the shipped ZF-Net (default), efficientnet-lite0 (ImageNet weights), or an exported ZF-Net file"
RULE_HELP = ("deconvnet (the paper) or guided (guided backpropagation: keeps the forward pass's signs, so projections stay "
             "specific to the image on networks without max pooling)")


def _add_figures(commands) -> None:
    p = commands.add_parser("deconv", help="project an image's strongest feature maps of a layer to pixels")
    p.set_defaults(run=_deconv)
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--layer", default=None, help="a layer name: conv1 ... conv5 (or 1 ... 5), pool1, ... for ZF-Net, the model's "
                   "module names (_blocks.10, ...) for others; default the model's last default layer")
    p.add_argument("--maps", type=int, default=4, help="how many of the strongest maps to project")
    p.add_argument("--out", default="deconv.png")
    p.add_argument("--no-overlay", dest="no_overlay", action="store_true", help="leave out the row of projections over the image")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--rule", choices=RULES, default="deconvnet", help=RULE_HELP)
    p = commands.add_parser("top9", help="Fig. 2: each feature map's 9 strongest activations over a data set, projected")
    p.set_defaults(run=_top9)
    p.add_argument("data_dir", metavar="DATA_DIR", help="<class>/<image> folders")
    p.add_argument("--layers", nargs="+", default=None, help="layers (2 means conv2); default conv2-conv5 for ZF-Net, four "
                   "depths (_blocks.2, .4, .10, .15) for EfficientNet-Lite0")
    p.add_argument("--maps", type=int, default=9, help="feature maps per layer (the strongest)")
    p.add_argument("--out", default="top9", help="output folder")
    p.add_argument("--per-class", dest="per_class", type=int, default=None, help="scan the first N images of each class")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--batch-size", dest="batch_size", type=int, default=32)
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (under torchrun: each rank its local GPU)")
    p.add_argument("--checkpoint", default=None, help="keep the partial scan here, to resume after a stop")
    p.add_argument("--resume", action="store_true", help="continue the scan from --checkpoint")
    p.add_argument("--rule", choices=RULES, default="deconvnet", help=RULE_HELP)


def _occlusion_inputs(args: argparse.Namespace):
    """(model, input Tensor[3, 224, 224], display image, class names, layer) for the occlusion command."""
    from PIL import Image

    from .viewed_models import ZFNetView, load_view

    view = load_view(args.model)
    with Image.open(args.image) as image:
        x = view.photo(image)
    # Fig. 7 (b, c) follow a layer of a chain network; other models show (d, e) and the overlay.
    return view.model, x, view.display(x), view.classes, args.layer if isinstance(view, ZFNetView) else None


def _target(value: str | None, classes: list[str] | None) -> int | None:
    if value is None:
        return None
    if classes is not None and value in classes:
        return classes.index(value)
    if value.isdigit():
        return int(value)
    known = f"; classes: {', '.join(classes)}" if classes else ""
    raise SystemExit(f"zfcuda occlusion: --target must be a class index or name, got {value!r}{known}")


def _occlusion(args: argparse.Namespace) -> int:
    from .._utils.distributed import resolve_device
    from ..figures.occlusion import fig7, heatmap_overlay
    from ..sensitivity import occlusion

    model, x, picture, classes, layer = _occlusion_inputs(args)
    method = "incremental" if args.method == "auto" else args.method
    device = resolve_device(args.device)
    result = occlusion(model.to(device), x.to(device), target=_target(args.target, classes), patch=args.patch, stride=args.stride,
                       layer=layer, method=method, tau=args.tau, batch_size=args.batch_size or "auto",
                       drill_down=args.drill_down, drill_factor=args.drill_factor)
    print(f"wrote {fig7(picture, result, args.out, classes)}")
    if args.overlay:
        print(f"wrote {heatmap_overlay(picture, result, args.overlay)}")
    return 0


def _add_occlusion(commands) -> None:
    p = commands.add_parser("occlusion", help="Fig. 7: slide a grey square over an image and map the classifier's response")
    p.set_defaults(run=_occlusion)
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--patch", type=int, default=16, help="occluder side in pixels (of the 224x224 input)")
    p.add_argument("--stride", type=int, default=4, help="occluder grid step in pixels")
    p.add_argument("--layer", default="relu5", help="ZF-Net layer whose strongest map is shown in panels (b) and (c)")
    p.add_argument("--target", default=None, help="class name or index (default: the predicted class)")
    p.add_argument("--method", choices=["auto", "full", "incremental", "approximate"], default="auto",
                   help="auto: incremental (exact, several times faster than full)")
    p.add_argument("--tau", type=float, default=0.5, help="region cap of --method approximate")
    p.add_argument("--drill-down", dest="drill_down", type=float, default=None,
                   help="compute a coarser grid first, then the full grid around this fraction of it with the largest drops")
    p.add_argument("--drill-factor", dest="drill_factor", type=int, default=4, help="how much coarser (default 4)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None, help="default: sized to memory")
    p.add_argument("--out", default="occlusion.png")
    p.add_argument("--overlay", default=None, help="also write the heatmap over the image here")


def _add_evaluate_and_export(commands) -> None:
    p = commands.add_parser("evaluate", help="top-1/top-5 error of an exported ZF-Net on an image folder")
    p.set_defaults(run=_evaluate)
    p.add_argument("data_dir", metavar="DATA_DIR", help="<class>/<image> folders named like the model's classes")
    p.add_argument("--model", default=None, help="an exported model (default: the one shipped with zfcuda)")
    p.add_argument("--crops", type=int, choices=[1, 10], default=10, help="centre crop or the paper's 10 crops")
    p.add_argument("--per-class", dest="per_class", type=int, default=None)
    p.add_argument("--batch-size", dest="batch_size", type=int, default=50)
    p.add_argument("--workers", type=int, default=0)
    p = commands.add_parser("export", help="write a training checkpoint as a float16 inference file")
    p.set_defaults(run=_export)
    p.add_argument("checkpoint")
    p.add_argument("out")
    p.add_argument("--metrics", default=None, help="JSON of evaluation results to record in the file")


def _demo(args: argparse.Namespace) -> int:
    from .demo import DemoSettings, run_demo

    run_demo(args.out, args.photos, args.device, DemoSettings.quick() if args.quick else None)
    return 0


def _add_demo(commands) -> None:
    p = commands.add_parser("demo", help="every analysis on sample photos, with an index.html (the README's main command)")
    p.set_defaults(run=_demo)
    p.add_argument("photos", nargs="*", metavar="PHOTO", help="your photos (default: the photos scikit-image ships)")
    p.add_argument("--out", default="zfcuda-demo", help="output folder (default: zfcuda-demo)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--quick", action="store_true", help="a small, fast setting (one photo, coarse grids)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zfcuda", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="what the compiled extension holds").set_defaults(run=_info)
    _add_train(commands)
    _add_evaluate_and_export(commands)
    _add_figures(commands)
    _add_occlusion(commands)
    _add_demo(commands)
    add_atlas_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command in ``argv`` (default: the process's own arguments, as the ``zfcuda`` program)."""
    args = build_parser().parse_args(argv)
    if argv is None:  # the process is ours: reuse freed memory rather than page-faulting fresh maps
        keep_freed_memory()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
