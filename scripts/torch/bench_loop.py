"""The plain PyTorch decode loop, for comparing Mipflow's throughput with what users run today.

    scripts/torch/python scripts/torch/bench_loop.py --model udf/src/test/resources/torchscript \\
        --mode onestep --images 64 --batch 8 --threads 2 --size 256

Loads a TorchScript model directory (model.json with "teacher" and optionally "student", as written
by make_fixture.py), draws random latents [N, C, S/f, S/f], warms up with three passes over one batch, then decodes
the N images in batches of B under torch.inference_mode() with the sampler arithmetic of
mipflow_sampler.py (the Java samplers' port). The noise comes from torch.randn: only the speed is
measured, not the bytes. Prints one JSON line:
    {"images_per_second": ..., "seconds": ..., "images": N, "threads": T, "batch": B, "torch": "..."}
plus mode, size and forward passes per image.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mipflow_sampler as ms  # noqa: E402
import reference_sampler as rs  # noqa: E402

# TorchScript's profiling executor profiles the first call of each shape and compiles its optimised
# (fused) plan on the next; one warm-up decode left that compile inside the timed loop (torch 2.6's
# onestep at 64 px then ran no faster than multiscale). The third pass is the first steady one, and
# Mipflow's side of the bench (TorchScriptBench.WARM_UP_PASSES) warms up the same way.
WARM_UP_PASSES = 3


class TokenNoise:
    """reference_sampler's noise interface over torch.randn and FastNoise's block noise: speed only."""

    def __init__(self, n, gamma, gen):
        self.n = n
        self.gamma = gamma
        self.fast = ms.FastNoise(gen)

    def initial(self, planes, h, w):
        return self.fast.initial(self.n, (planes, h, w))

    def block(self, planes, h, w):
        return self.fast.block(self.n, planes, h, w, self.gamma)


def token_loop(args, manifest, dev):
    """A token decoder (model.json latent.kind tokens): the authors' loop (reference_sampler.decode:
    their schedule, grid and guidance, each guided call carrying a batch's conditional rows and their
    null twins together), torch.randn noise, guidance scale --cfg-scale (default: the model's)."""
    import numpy as np
    modes = manifest.get("modes", ["multiscale"])
    if args.mode not in modes:
        raise SystemExit("a token decoder is sampled in its model.json modes %s, not %s" % (modes, args.mode))
    # onestep is the authors' ADD student in their loop with one step per stage, with the
    # student's own null context where the export wrote one (export_mmdit.py --student-checkpoint).
    onestep = args.mode == "onestep"
    network = manifest["student"] if onestep else manifest["teacher"]
    if isinstance(network, list):
        raise SystemExit("per-stage token exports are not supported by this loop")
    # Trixie's torch 2.6 links LLVM 17 into its TensorExpr fuser, which compiles fused kernels on a
    # scripted module's second call: on the token fixture that compile had not finished after five
    # minutes here, so the loop runs it unfused (the convolutional fixture keeps the fuser).
    torch._C._jit_set_texpr_fuser_enabled(False)
    module = torch.jit.load(os.path.join(args.model, network), map_location=dev).eval()
    lat = manifest["latent"]
    null_file = manifest.get("studentNullContext", manifest["nullContext"]) if onestep else manifest["nullContext"]
    null = np.fromfile(os.path.join(args.model, null_file), dtype="<f4").reshape(1, lat["tokens"], lat["dim"])
    g = manifest.get("guidance", {})
    scale = args.cfg_scale if args.cfg_scale is not None else g.get("scale", 1.0)
    sched = manifest["schedule"]
    steps = [1] * sched["stages"] if onestep else parse_steps(args.stage_steps, sched["stages"])
    gen = torch.Generator().manual_seed(args.seed)
    context = torch.randn(args.images, lat["tokens"], lat["dim"], generator=gen)
    size = manifest["imageSize"]

    def decode(ctx):
        return rs.decode(module, null, ctx, ["r%d" % i for i in range(ctx.shape[0])], 0, sched, steps, scale,
                         g.get("low", 0.0), g.get("high", 1.0), size, noise=TokenNoise(ctx.shape[0], sched["gamma"], gen))

    def timed(batch):
        with torch.inference_mode():
            for _ in range(WARM_UP_PASSES):
                decode(context[:batch])
            t0 = time.perf_counter()
            for i in range(0, args.images, batch):
                img = decode(context[i: i + batch]).clamp_(-1.0, 1.0)
                float(img[:, :, 0, 0].sum())
            return time.perf_counter() - t0

    return timed, sum(steps), size, scale


def parse_steps(text, stages):
    parts = [int(p) for p in text.split(",")]
    if len(parts) == 1:
        parts = parts * stages
    if len(parts) != stages or min(parts) < 1:
        raise SystemExit("--stage-steps needs 1 or %d positive values" % stages)
    return parts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="TorchScript model directory (model.json, teacher.pt, ...)")
    ap.add_argument("--mode", choices=["onestep", "multiscale", "full"], default="onestep")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=256, help="image side; latents are size/downsample")
    ap.add_argument("--steps", type=int, default=50, help="Euler steps of mode full (Java's default 50)")
    ap.add_argument("--stage-steps", default="10", help="Euler steps per stage of mode multiscale (default 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--velocity", choices=["dt", "du"], default="dt",
                    help="what forward returns: dx/dt (default; scaled to the stage's dx/du) or dx/du")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--cfg-scale", type=float, help="token decoders: guidance scale W (default: the model's)")
    ap.add_argument("--sweep", help="comma-separated batches: time each once after its warm-up and report the "
                                    "fastest as \"batch\" (with every value under \"sweep\")")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_loop: --device cuda, but torch %s here has no CUDA device" % torch.__version__, file=sys.stderr)
        sys.exit(2)
    if args.images < 1 or args.batch < 1 or args.threads < 1:
        raise SystemExit("--images, --batch and --threads must be positive")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    with open(os.path.join(args.model, "model.json")) as f:
        manifest = json.load(f)
    if manifest.get("format") != "torchscript":
        raise SystemExit("%s is not a torchscript model directory" % args.model)
    dev = torch.device(args.device)
    if manifest.get("latent", {}).get("kind") == "tokens":
        timed, passes, size, scale = token_loop(args, manifest, dev)
        report(args, timed, passes, size, {"cfg_scale": scale})
        return
    sched = manifest["schedule"]
    schedule = ms.StageSchedule(sched["stages"], sched["gamma"])
    f = manifest["downsample"]
    c = manifest["latentChannels"]
    if args.size % f != 0:
        raise SystemExit("--size must be a multiple of the downsample factor %d" % f)
    teacher = torch.jit.load(os.path.join(args.model, manifest["teacher"]), map_location=dev).eval()
    student = None
    if manifest.get("student"):
        student = torch.jit.load(os.path.join(args.model, manifest["student"]), map_location=dev).eval()
    if args.mode == "onestep" and student is None:
        raise SystemExit("mode onestep needs a model with a student")

    sampler = ms.Sampler(ms.TorchScriptVelocity(teacher, student, schedule, args.velocity), schedule, args.mode, full_steps=args.steps,
                         stage_steps=parse_steps(args.stage_steps, schedule.stages), downsample=f)
    gen = torch.Generator().manual_seed(args.seed)
    zs = args.size // f
    latents = torch.randn(args.images, c, zs, zs, generator=gen).to(dev)
    noise = ms.FastNoise(gen)

    def timed(batch):
        with torch.inference_mode():
            for _ in range(WARM_UP_PASSES):
                sampler.decode(latents[:batch], noise)
            t0 = time.perf_counter()
            checksum = 0.0
            for i in range(0, args.images, batch):
                img = sampler.decode(latents[i: i + batch], noise).clamp_(-1.0, 1.0)
                checksum += float(img[:, :, 0, 0].sum())  # touch the result (and wait for the device)
            return time.perf_counter() - t0

    report(args, timed, sampler.forward_passes(), args.size, {})


def report(args, timed, passes, size, extra):
    """Times the images in batches of --batch (or each of --sweep, keeping the fastest); one JSON line."""
    sweep = {}
    if args.sweep:
        for b in sorted({int(v) for v in args.sweep.split(",")}):
            sweep[b] = args.images / timed(b)
            print("sweep batch %d: %.3f images/s" % (b, sweep[b]), file=sys.stderr)
        args.batch = max(sweep, key=sweep.get)
    seconds = timed(args.batch)
    out = {
        "images_per_second": args.images / seconds,
        "seconds": seconds,
        "images": args.images,
        "threads": args.threads,
        "batch": args.batch,
        "torch": torch.__version__,
        "mode": args.mode,
        "size": size,
        "forward_passes": passes,
        "device": args.device,
        "sweep": {str(b): v for b, v in sweep.items()},
    }
    out.update(extra)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
