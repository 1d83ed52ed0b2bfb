"""Exports a token-conditioned multiscale diffusion decoder (the MMDiT kind of issue #21) into a Mipflow
token-decoder model directory.

    scripts/torch/python scripts/torch/export_mmdit.py \\
        --module mypkg.build:make_decoder [--factory-kwargs '{"depth": 12}'] [--path /src/of/mypkg] \\
        [--checkpoint ckpt.pt [--checkpoint-key ema] [--strip-prefix decoder.]] \\
        --stages 4 --image-size 256 [--tokens 128 --dim 32] [--guidance-scale 2.0] --out DIR

The user's module is used as it is (no change to its code): `--module pkg.mod:factory` names a callable
that returns the nn.Module (a class works too); `--path` adds directories to sys.path first. The
module must have
    forward(x [N,3,H,W], t [N], context_features=context [N,T,D]) -> tuple/list whose [0] is the velocity
(or the velocity itself) and a parameter `context_null` of shape (1, T, D), the learned null latent
used for classifier-free guidance (names configurable: --context-kwarg, --output-index, --null-attr).

What it writes (the token-decoder contract of model.json):
  teacher.pt or teacher-s<k>-<side>.pt   the module wrapped to forward(x, t, context) and traced with
                                         torch.jit.trace. Tracing records the shapes of the example
                                         it ran on where the module turns sizes into Python numbers
                                         (the authors' MMDiT slices its RoPE table and computes the
                                         context RoPE from the patch grid): the script traces at the
                                         full resolution and checks the trace against the module at
                                         every stage resolution and at two batch sizes; if any check
                                         fails (or raises), it writes one trace per stage, coarsest
                                         first, and model.json lists them ("teacher": [...]).
  context_null.bin                       context_null as T*D float32 little-endian, token-major
  model.json                             format, teacher, latent {tokens, T, D}, imageSize, nullContext,
                                         guidance {scale, low, high}, modes ["multiscale"], schedule
                                         (reference_sampler.schedule_from_authors(K, gamma)), sha256

Every written file is loaded back and checked against the eager module (max abs difference <= --tol,
default 1e-5) at each stage resolution. Deterministic for a given torch (pins PYTHONHASHSEED).
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_sampler as rs  # noqa: E402
import row_memory  # noqa: E402

COMPLEX_CAST = "discards the imaginary part"


class ContractWrapper(nn.Module):
    """forward(x, t, context) -> velocity, over a module called as module(x, t, **{kwarg: context})."""

    def __init__(self, inner, context_kwarg="context_features", output_index=0):
        super().__init__()
        self.inner = inner
        self.context_kwarg = context_kwarg
        self.output_index = output_index

    def forward(self, x, t, context):
        out = self.inner(x, t, **{self.context_kwarg: context})
        if isinstance(out, (tuple, list)):
            out = out[self.output_index]
        return out


def load_factory(spec, paths):
    for p in reversed(paths):
        sys.path.insert(0, os.path.abspath(p))
    if ":" not in spec:
        raise SystemExit("--module must be pkg.mod:factory")
    mod_name, attr = spec.split(":", 1)
    obj = importlib.import_module(mod_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def load_checkpoint(module, path, key, prefix):
    state = torch.load(path, map_location="cpu")
    if key:
        for k in key.split("."):
            state = state[k]
    if prefix:
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not state:
            raise SystemExit("no checkpoint entry starts with %r" % prefix)
    missing, unexpected = module.load_state_dict(state, strict=False)
    # non-persistent buffers (e.g. precomputed RoPE tables) are not in a state dict
    if missing or unexpected:
        raise SystemExit("checkpoint does not match the module: missing %s, unexpected %s"
                         % (missing[:8], unexpected[:8]))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def example(n, side, tokens, dim, tau, gen):
    x = torch.randn(n, 3, side, side, generator=gen)
    t = torch.full((n,), float(tau), dtype=torch.float32)
    c = torch.randn(n, tokens, dim, generator=gen)
    return x, t, c


def max_diff(fn_a, fn_b, inputs):
    with torch.no_grad():
        a = fn_a(*inputs)
        b = fn_b(*inputs)
    if a.shape != b.shape:
        return float("inf")
    return (a.float() - b.float()).abs().max().item()


def stage_inputs(sched, side_of, tokens, dim, gen, batches):
    """(stage, inputs) for every stage and batch size, tau at the middle of the stage's window."""
    out = []
    for k in range(sched["stages"]):
        hi, lo = sched["timeWindows"][k]
        for n in batches:
            out.append((k, example(n, side_of(k), tokens, dim, 0.5 * (hi + lo), gen)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", required=True, help="pkg.mod:factory returning the nn.Module")
    ap.add_argument("--factory-kwargs", default="{}", help="JSON object passed to the factory")
    ap.add_argument("--path", action="append", default=[], help="directory to put on sys.path (repeatable)")
    ap.add_argument("--checkpoint", help="state dict (torch.load) to load into the module")
    ap.add_argument("--checkpoint-key", help="dotted key of the state dict inside the checkpoint (e.g. ema)")
    ap.add_argument("--strip-prefix", help="keep only entries with this prefix and strip it (e.g. decoder.)")
    ap.add_argument("--stages", type=int, required=True, help="K, the number of pyramid stages")
    ap.add_argument("--image-size", type=int, required=True, help="full-resolution side S")
    ap.add_argument("--tokens", type=int, help="T (default: from context_null)")
    ap.add_argument("--dim", type=int, help="D (default: from context_null)")
    ap.add_argument("--gamma", type=float, default=1.0 / 3.0)
    ap.add_argument("--guidance-scale", type=float, default=1.0)
    ap.add_argument("--guidance-low", type=float, default=0.0)
    ap.add_argument("--guidance-high", type=float, default=1.0)
    ap.add_argument("--context-kwarg", default="context_features")
    ap.add_argument("--output-index", type=int, default=0)
    ap.add_argument("--null-attr", default="context_null")
    ap.add_argument("--per-stage", action="store_true", help="always write one trace per stage")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=0, help="seed of the example inputs")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)

    factory = load_factory(args.module, args.path)
    module = factory(**json.loads(args.factory_kwargs))
    if not isinstance(module, nn.Module):
        raise SystemExit("the factory returned %s, not an nn.Module" % type(module).__name__)
    if args.checkpoint:
        load_checkpoint(module, args.checkpoint, args.checkpoint_key, args.strip_prefix)
    module = module.eval().float()
    null = getattr(module, args.null_attr, None)
    if null is None:
        raise SystemExit("the module has no %r (needed for guidance)" % args.null_attr)
    null = null.detach().float()
    if null.dim() == 2:
        null = null.unsqueeze(0)
    tokens = args.tokens or null.shape[1]
    dim = args.dim or null.shape[2]
    if tuple(null.shape) != (1, tokens, dim):
        raise SystemExit("%s has shape %s, expected (1, %d, %d)" % (args.null_attr, tuple(null.shape), tokens, dim))

    K = args.stages
    S = args.image_size
    if S % (1 << (K - 1)):
        raise SystemExit("image size %d is not divisible by 2^(K-1)" % S)

    def side_of(k):
        return S >> (K - 1 - k)

    sched = rs.schedule_from_authors(K, args.gamma)
    wrapper = ContractWrapper(module, args.context_kwarg, args.output_index).eval()
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    notes = set()

    def trace(side):
        x, t, c = example(2, side, tokens, dim, 0.5, gen)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with torch.no_grad():
                tr = torch.jit.trace(wrapper, (x, t, c), check_trace=False)
        for w in caught:
            msg = str(w.message).splitlines()[0]
            notes.add(("TracerWarning: " if "Tracer" in type(w.message).__name__ else "") + msg[:160])
        return tr

    checks = stage_inputs(sched, side_of, tokens, dim, gen, (1, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad():
            wrapper(*checks[0][1])
    if any(COMPLEX_CAST in str(w.message) for w in caught):
        notes.add("the module casts complex values to real (" + COMPLEX_CAST + "); the trace records the "
                  "same cast, so the exported files compute what the module computes")

    files = []
    single = None
    if not args.per_stage:
        single = trace(S)
        worst = 0.0
        for _k, inp in checks:
            try:
                worst = max(worst, max_diff(single, wrapper, inp))
            except Exception as e:  # noqa: BLE001 - a shape baked into the trace
                worst = float("inf")
                notes.add("single trace fails at another resolution: %s" % str(e).splitlines()[0][:160])
                break
        print("single trace at %d px: max |traced - module| over all stages = %.3g" % (S, worst))
        if worst > args.tol:
            single = None
    if single is not None:
        torch.jit.save(single, os.path.join(args.out, "teacher.pt"))
        files = ["teacher.pt"]
    else:
        for k in range(K):
            name = "teacher-s%d-%d.pt" % (k, side_of(k))
            torch.jit.save(trace(side_of(k)), os.path.join(args.out, name))
            files.append(name)
        print("one trace per stage:", files)

    null_np = null.reshape(-1).numpy().astype("<f4")
    with open(os.path.join(args.out, "context_null.bin"), "wb") as f:
        f.write(null_np.tobytes())

    # Load back what was written and check it against the module at every stage.
    loaded = [torch.jit.load(os.path.join(args.out, n)) for n in files]
    worst = 0.0
    for k, inp in checks:
        worst = max(worst, max_diff(loaded[0 if len(loaded) == 1 else k], wrapper, inp))
    back = np.fromfile(os.path.join(args.out, "context_null.bin"), dtype="<f4")
    if not np.array_equal(back, null_np):
        raise SystemExit("context_null.bin does not read back")
    print("written files vs module: max |diff| = %.3g over %d stages x batch sizes 1, 3" % (worst, K))
    if worst > args.tol:
        raise SystemExit("exported model differs from the module by %.3g > %.3g" % (worst, args.tol))

    manifest = {
        "format": "torchscript",
        "teacher": files[0] if len(files) == 1 else files,
        "latent": {"kind": "tokens", "tokens": int(tokens), "dim": int(dim)},
        "imageSize": S,
        "nullContext": "context_null.bin",
        "guidance": {"scale": args.guidance_scale, "low": args.guidance_low, "high": args.guidance_high},
        "modes": ["multiscale"],
        "schedule": rs.manifest_schedule(sched),
        "sha256": {n: sha256(os.path.join(args.out, n)) for n in files + ["context_null.bin"]},
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    # activation memory per row from PyTorch's allocator (model.json "memory"; torch 2.x only)
    row_memory.measure_into(args.out)
    for n in sorted(notes):
        print("note:", n)
    for n in files + ["context_null.bin", "model.json"]:
        print("%-28s %10d bytes" % (n, os.path.getsize(os.path.join(args.out, n))))


if __name__ == "__main__":
    main()
