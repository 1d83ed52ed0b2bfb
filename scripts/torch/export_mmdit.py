"""Exports a token-conditioned multiscale diffusion decoder (the MMDiT kind of issue #21) into a Mipflow
token-decoder model directory.

    scripts/torch/python scripts/torch/export_mmdit.py \\
        --module mypkg.build:make_decoder [--factory-kwargs '{"depth": 12}'] [--path /src/of/mypkg] \\
        [--checkpoint ckpt.pt [--checkpoint-key ema] [--strip-prefix decoder.]] \\
        [--student-checkpoint add.pt [--student-checkpoint-key ema] [--student-strip-prefix decoder.]] \\
        --stages 4 --image-size 256 [--tokens 128 --dim 32] [--guidance-scale 2.0] --out DIR

The user's module is used as it is (no change to its code): `--module pkg.mod:factory` names a callable
that returns the nn.Module (a class works too); `--path` adds directories to sys.path first. The
module must have
    forward(x [N,3,H,W], t [N], context_features=context [N,T,D]) -> tuple/list whose [0] is the velocity
(or the velocity itself) and a parameter `context_null` of shape (1, T, D), the learned null latent
used for classifier-free guidance (names configurable: --context-kwarg, --output-index, --null-attr).

With --student-checkpoint the one-step student is exported too: the method's authors distill it with
ADD (their modelling/tokenizer_ADD.py), and it is the same module with other weights, sampled one
step per stage in the same multiscale loop with the same guidance (their loop with num_steps=1).
Its checkpoint key and prefix default to the teacher's (--checkpoint-key, --strip-prefix).

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
  student.pt or student-s<k>-<side>.pt   the student, traced and checked the same way (its own choice of
                                         one trace or one per stage)
  context_null.bin                       context_null as T*D float32 little-endian, token-major
  student_context_null.bin               the student's context_null, when it differs from the teacher's
                                         (the authors' loop guides a network with its own null latent,
                                         and ADD with guidance trains the student's)
  model.json                             format, teacher, [student], latent {tokens, T, D}, imageSize,
                                         nullContext, [studentNullContext], guidance {scale, low, high},
                                         modes ["multiscale"] or ["multiscale", "onestep"] (not full: the
                                         network was trained on per-stage time windows), schedule
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


def build(factory, args, checkpoint, key, prefix):
    """The user's module from the factory, with a checkpoint's weights, in eval mode and float32."""
    module = factory(**json.loads(args.factory_kwargs))
    if not isinstance(module, nn.Module):
        raise SystemExit("the factory returned %s, not an nn.Module" % type(module).__name__)
    if checkpoint:
        load_checkpoint(module, checkpoint, key, prefix)
    return module.eval().float()


def null_of(module, args, role):
    null = getattr(module, args.null_attr, None)
    if null is None:
        raise SystemExit("the %s has no %r (needed for guidance)" % (role, args.null_attr))
    null = null.detach().float()
    return null.unsqueeze(0) if null.dim() == 2 else null


def write_null(null, path):
    arr = null.reshape(-1).numpy().astype("<f4")
    with open(path, "wb") as f:
        f.write(arr.tobytes())
    if not np.array_equal(np.fromfile(path, dtype="<f4"), arr):
        raise SystemExit("%s does not read back" % path)


def export_network(wrapper, role, args, side_of, checks, tokens, dim, gen, notes):
    """Traces one network (teacher or student) into role.pt, or one file per stage where a single
    trace does not reproduce the module at every stage; loads the files back and checks them
    against the module at every stage resolution and batch size. Returns the file names."""
    K = args.stages
    S = args.image_size

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

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad():
            wrapper(*checks[0][1])
    if any(COMPLEX_CAST in str(w.message) for w in caught):
        notes.add("the module casts complex values to real (" + COMPLEX_CAST + "); the trace records the "
                  "same cast, so the exported files compute what the module computes")

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
        print("%s: single trace at %d px: max |traced - module| over all stages = %.3g" % (role, S, worst))
        if worst > args.tol:
            single = None
    if single is not None:
        files = [role + ".pt"]
        torch.jit.save(single, os.path.join(args.out, files[0]))
    else:
        files = []
        for k in range(K):
            name = "%s-s%d-%d.pt" % (role, k, side_of(k))
            torch.jit.save(trace(side_of(k)), os.path.join(args.out, name))
            files.append(name)
        print("%s: one trace per stage: %s" % (role, files))

    # Load back what was written and check it against the module at every stage.
    loaded = [torch.jit.load(os.path.join(args.out, n)) for n in files]
    worst = 0.0
    for k, inp in checks:
        worst = max(worst, max_diff(loaded[0 if len(loaded) == 1 else k], wrapper, inp))
    print("%s: written files vs module: max |diff| = %.3g over %d stages x batch sizes 1, 3" % (role, worst, K))
    if worst > args.tol:
        raise SystemExit("exported %s differs from the module by %.3g > %.3g" % (role, worst, args.tol))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", required=True, help="pkg.mod:factory returning the nn.Module")
    ap.add_argument("--factory-kwargs", default="{}", help="JSON object passed to the factory")
    ap.add_argument("--path", action="append", default=[], help="directory to put on sys.path (repeatable)")
    ap.add_argument("--checkpoint", help="state dict (torch.load) to load into the module")
    ap.add_argument("--checkpoint-key", help="dotted key of the state dict inside the checkpoint (e.g. ema)")
    ap.add_argument("--strip-prefix", help="keep only entries with this prefix and strip it (e.g. decoder.)")
    ap.add_argument("--student-checkpoint", help="the one-step student's state dict (e.g. the authors' ADD "
                    "checkpoint): exports student.pt too, and model.json lists onestep")
    ap.add_argument("--student-checkpoint-key", help="dotted key of the student's state dict (default: "
                    "--checkpoint-key)")
    ap.add_argument("--student-strip-prefix", help="prefix of the student's entries (default: --strip-prefix)")
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
    module = build(factory, args, args.checkpoint, args.checkpoint_key, args.strip_prefix)
    null = null_of(module, args, "module")
    tokens = args.tokens or null.shape[1]
    dim = args.dim or null.shape[2]
    if tuple(null.shape) != (1, tokens, dim):
        raise SystemExit("%s has shape %s, expected (1, %d, %d)" % (args.null_attr, tuple(null.shape), tokens, dim))
    student = None
    if args.student_checkpoint:
        student = build(factory, args, args.student_checkpoint,
                        args.student_checkpoint_key if args.student_checkpoint_key is not None else args.checkpoint_key,
                        args.student_strip_prefix if args.student_strip_prefix is not None else args.strip_prefix)
        student_null = null_of(student, args, "student")
        if student_null.shape != null.shape:
            raise SystemExit("the student's %s has shape %s, the teacher's %s" % (
                args.null_attr, tuple(student_null.shape), tuple(null.shape)))

    K = args.stages
    S = args.image_size
    if S % (1 << (K - 1)):
        raise SystemExit("image size %d is not divisible by 2^(K-1)" % S)

    def side_of(k):
        return S >> (K - 1 - k)

    sched = rs.schedule_from_authors(K, args.gamma)
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    notes = set()
    checks = stage_inputs(sched, side_of, tokens, dim, gen, (1, 3))

    wrapper = ContractWrapper(module, args.context_kwarg, args.output_index).eval()
    files = export_network(wrapper, "teacher", args, side_of, checks, tokens, dim, gen, notes)
    write_null(null, os.path.join(args.out, "context_null.bin"))
    others = ["context_null.bin"]
    manifest = {
        "format": "torchscript",
        "teacher": files[0] if len(files) == 1 else files,
        "latent": {"kind": "tokens", "tokens": int(tokens), "dim": int(dim)},
        "imageSize": S,
        "nullContext": "context_null.bin",
        "guidance": {"scale": args.guidance_scale, "low": args.guidance_low, "high": args.guidance_high},
        "modes": ["multiscale"],
        "schedule": rs.manifest_schedule(sched),
    }
    student_files = []
    if student is not None:
        student_wrapper = ContractWrapper(student, args.context_kwarg, args.output_index).eval()
        # the same example inputs: both networks checked on the same states, times and contexts
        student_files = export_network(student_wrapper, "student", args, side_of, checks, tokens, dim, gen, notes)
        manifest["student"] = student_files[0] if len(student_files) == 1 else student_files
        if not torch.equal(student_null, null):
            write_null(student_null, os.path.join(args.out, "student_context_null.bin"))
            manifest["studentNullContext"] = "student_context_null.bin"
            others.append("student_context_null.bin")
        manifest["modes"] = ["multiscale", "onestep"]
        print("student: %s differs from the teacher's by at most %.3g" % (
            args.null_attr, (student_null - null).abs().max().item()))
    manifest["sha256"] = {n: sha256(os.path.join(args.out, n)) for n in files + student_files + others}
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    # activation memory per row from PyTorch's allocator (model.json "memory"; torch 2.x only)
    row_memory.measure_into(args.out)
    for n in sorted(notes):
        print("note:", n)
    for n in files + student_files + others + ["model.json"]:
        print("%-28s %10d bytes" % (n, os.path.getsize(os.path.join(args.out, n))))


if __name__ == "__main__":
    main()
