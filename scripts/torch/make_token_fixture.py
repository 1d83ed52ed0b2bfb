"""Writes the token-decoder test fixture of udf/src/test/resources/token-decoder/ (issue #21).

    scripts/torch/python scripts/torch/make_token_fixture.py [--out DIR]

Two model directories, k3/ (K = 3 stages: 16, 32, 64 px) and k4/ (K = 4: 8, 16, 32, 64 px), each with
  teacher.pt, student.pt, context_null.bin, student_context_null.bin, model.json
                    written by export_mmdit.py from two checkpoints in the layout of the authors'
                    training scripts ({"model": {"decoder.<name>": tensor}}), as a user exports a
                    decoder and its ADD student in one command: TinyTokenDecoder (seeded init) as the
                    teacher, the same module with other weights (another seed, its own context_null)
                    as the one-step student, each traced with torch.jit.trace at 64 px and checked at
                    every stage resolution; model.json lists modes ["multiscale", "onestep"]
  expected.json     two rows (ids tok-a, tok-b, seed 7) with contexts [2, T, D] from a seeded numpy
                    generator and their decodes by reference_sampler.decode (float32 NCHW flattened
                    row-major, not clamped): mode multiscale (the teacher) for N in {1, 10} steps per
                    stage and guidance W in {1, 2}, and mode onestep (the student, N = 1) for W in
                    {1, 2}; each with the network calls and rows the reference made, counted

Deterministic for a given torch version (pins PYTHONHASHSEED like make_fixture.py, one thread;
the traces record source line numbers, so editing this file changes the .pt bytes, not the decodes).
The forward contract: forward(x [N,3,H,W] f32, t [N] f32, context [N,T,D] f32) -> [N,3,H,W] f32,
t the network time tau of the step, the output the stage-local velocity dx/du.

TinyTokenDecoder is a small decoder of the MMDiT kind: a patch embedding of x (patch 4), a linear
embedding of the T context tokens, a sinusoidal timestep embedding of t through an MLP, two joint
attention blocks over [context tokens ; image patches] (width 32, 2 heads, adaLN modulation by the
time embedding, separate weights per stream), 2D rotary position embedding of the image patches
whose coordinates are the patch centres on a fixed 16 x 16 reference extent (so the positions
depend on the stage's resolution, computed from H and W at run time), and an adaLN final layer
unpatchified to [N, 3, H, W].
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    # TorchScript writes a module's constants in set order, which follows the string hash: pin it
    # so that the .pt bytes (and their SHA-256 in model.json) do not change from run to run.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_sampler as rs  # noqa: E402
import row_memory  # noqa: E402

TOKENS = 16
DIM = 8
IMAGE_SIZE = 64
SEED = 7
IDS = ["tok-a", "tok-b"]
CONTEXT_SEED = 2024
STEPS = [1, 10]
SCALES = [1.0, 2.0]
GUIDANCE = {"scale": 2.0, "low": 0.0, "high": 1.0}
MODELS = {"k3": (3, 3101, 3201), "k4": (4, 3102, 3202)}  # directory: (stages, teacher seed, student seed)


class JointBlock(nn.Module):
    """One MMDiT-style block: per-stream adaLN + qkv, joint attention, per-stream proj + MLP."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.c_mod = nn.Linear(width, 6 * width)
        self.x_mod = nn.Linear(width, 6 * width)
        self.c_qkv = nn.Linear(width, 3 * width)
        self.x_qkv = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.x_proj = nn.Linear(width, width)
        self.c_mlp1 = nn.Linear(width, 2 * width)
        self.c_mlp2 = nn.Linear(2 * width, width)
        self.x_mlp1 = nn.Linear(width, 2 * width)
        self.x_mlp2 = nn.Linear(2 * width, width)

    def heads_of(self, a: torch.Tensor) -> torch.Tensor:
        n, l, _ = a.shape
        return a.reshape(n, l, self.heads, self.head_dim).transpose(1, 2)  # [N, heads, L, hd]

    @staticmethod
    def rotate(a: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        # a [N, heads, L, hd]; pairs (even, odd) rotated by the angles in cos/sin [L, hd/2]
        a1 = a[..., 0::2]
        a2 = a[..., 1::2]
        r1 = a1 * cos - a2 * sin
        r2 = a1 * sin + a2 * cos
        return torch.stack([r1, r2], dim=-1).flatten(3)

    def forward(self, ctx: torch.Tensor, x: torch.Tensor, c: torch.Tensor, cos: torch.Tensor,
                sin: torch.Tensor):
        cm = self.c_mod(F.silu(c)).unsqueeze(1).chunk(6, dim=2)
        xm = self.x_mod(F.silu(c)).unsqueeze(1).chunk(6, dim=2)
        width = x.shape[2]
        hc = F.layer_norm(ctx, [width], eps=1e-6) * (1.0 + cm[1]) + cm[0]
        hx = F.layer_norm(x, [width], eps=1e-6) * (1.0 + xm[1]) + xm[0]
        qc, kc, vc = self.c_qkv(hc).chunk(3, dim=2)
        qx, kx, vx = self.x_qkv(hx).chunk(3, dim=2)
        qx = self.rotate(self.heads_of(qx), cos, sin)
        kx = self.rotate(self.heads_of(kx), cos, sin)
        q = torch.cat([self.heads_of(qc), qx], dim=2)
        k = torch.cat([self.heads_of(kc), kx], dim=2)
        v = torch.cat([self.heads_of(vc), self.heads_of(vx)], dim=2)
        att = torch.softmax(torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim), dim=-1)
        o = torch.matmul(att, v).transpose(1, 2).flatten(2)  # [N, L, width]
        lc = ctx.shape[1]
        ctx = ctx + cm[2] * self.c_proj(o[:, :lc])
        x = x + xm[2] * self.x_proj(o[:, lc:])
        hc = F.layer_norm(ctx, [width], eps=1e-6) * (1.0 + cm[4]) + cm[3]
        hx = F.layer_norm(x, [width], eps=1e-6) * (1.0 + xm[4]) + xm[3]
        ctx = ctx + cm[5] * self.c_mlp2(F.gelu(self.c_mlp1(hc)))
        x = x + xm[5] * self.x_mlp2(F.gelu(self.x_mlp1(hx)))
        return ctx, x


class TinyTokenDecoder(nn.Module):
    def __init__(self, tokens: int = TOKENS, dim: int = DIM, width: int = 32, heads: int = 2, depth: int = 2,
                 patch: int = 4, frequencies: int = 16, extent: float = 16.0):
        super().__init__()
        self.patch = patch
        self.width = width
        self.extent = extent
        head_dim = width // heads
        self.x_in = nn.Conv2d(3, width, patch, stride=patch)
        self.c_in = nn.Linear(dim, width)
        self.t_in = nn.Linear(2 * frequencies, width)
        self.t_out = nn.Linear(width, width)
        self.blocks = nn.ModuleList([JointBlock(width, heads) for _ in range(depth)])
        self.final_mod = nn.Linear(width, 2 * width)
        self.final = nn.Linear(width, patch * patch * 3)
        self.context_null = nn.Parameter(torch.randn(1, tokens, dim))
        t_freqs = torch.exp(-math.log(10000.0) * torch.arange(frequencies, dtype=torch.float32) / frequencies)
        self.register_buffer("t_freqs", t_freqs)
        # head_dim / 4 frequencies for each of the two axes (each frequency rotates one pair)
        quarter = head_dim // 4
        rope = 1.0 / (100.0 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
        self.register_buffer("rope_freqs", rope)
        with torch.no_grad():
            # at random init the context would hardly move the output: sharpen the attention and
            # enlarge the context embedding so that guidance visibly changes a decode
            self.c_in.weight.mul_(3.0)
            for blk in self.blocks:
                blk.c_qkv.weight.mul_(3.0)
                blk.x_qkv.weight.mul_(3.0)

    def rope(self, gh: int, gw: int):
        # patch centres on the fixed extent: coarse stages have coarse, widely spaced positions
        ys = (torch.arange(gh, dtype=torch.float32) + 0.5) * (self.extent / gh)
        xs = (torch.arange(gw, dtype=torch.float32) + 0.5) * (self.extent / gw)
        py = ys.unsqueeze(1).expand(gh, gw).reshape(-1)
        px = xs.unsqueeze(0).expand(gh, gw).reshape(-1)
        ang = torch.cat([py.unsqueeze(1) * self.rope_freqs.unsqueeze(0),
                         px.unsqueeze(1) * self.rope_freqs.unsqueeze(0)], dim=1)  # [L, head_dim/2]
        return torch.cos(ang), torch.sin(ang)

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        h = x.shape[2]
        w = x.shape[3]
        p = self.patch
        gh = h // p
        gw = w // p
        xt = self.x_in(x).flatten(2).transpose(1, 2)  # [N, gh*gw, width]
        ct = self.c_in(context)
        ang = (t * 1000.0).unsqueeze(1) * self.t_freqs.unsqueeze(0)
        c = self.t_out(F.silu(self.t_in(torch.cat([torch.cos(ang), torch.sin(ang)], dim=1))))
        cos, sin = self.rope(gh, gw)
        for blk in self.blocks:
            ct, xt = blk(ct, xt, c, cos, sin)
        shift, scale = self.final_mod(F.silu(c)).unsqueeze(1).chunk(2, dim=2)
        out = self.final(F.layer_norm(xt, [self.width], eps=1e-6) * (1.0 + scale) + shift)
        out = out.reshape(n, gh, gw, p, p, 3).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(n, 3, h, w)


class F32:
    """A float32 array written to JSON with the shortest decimal that reads back (as a double,
    then rounded to float) to the same float32."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float32).reshape(-1)


def f32_text(v):
    s = np.format_float_positional(v, unique=True, trim="-") if abs(v) >= 1e-4 or v == 0 else \
        np.format_float_scientific(v, unique=True, trim="-")
    if np.float32(float(s)) != v or not np.isfinite(v):
        s = "%.9g" % float(v)
        if np.float32(float(s)) != v:
            raise ValueError("cannot write %r" % v)
    return s


def to_json(obj, indent=0):
    pad = " " * indent
    if isinstance(obj, F32):
        return "[" + ",".join(f32_text(v) for v in obj.values) + "]"
    if isinstance(obj, dict):
        items = ["%s  %s: %s" % (pad, json.dumps(k), to_json(v, indent + 2)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, F32)) for v in obj):
        items = ["%s  %s" % (pad, to_json(v, indent + 2)) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


class Counted:
    """A module that counts the calls and the rows it is given (what the reference sends the network)."""

    def __init__(self, module):
        self.module = module
        self.calls = 0
        self.rows = 0

    def __call__(self, x, t, context):
        self.calls += 1
        self.rows += x.shape[0]
        return self.module(x, t, context)


def make_model_dir(out, stages, teacher_seed, student_seed):
    """The model directory as a user makes it: checkpoints in the layout of the authors' training
    scripts ({"model": the tokenizer's state dict, the decoder's entries under "decoder."}), one for
    the teacher and one for the student, exported by export_mmdit.py in one command."""
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        ckpts = []
        for role, seed in (("teacher", teacher_seed), ("student", student_seed)):
            torch.manual_seed(seed)
            module = TinyTokenDecoder().eval()
            ckpts.append(os.path.join(tmp, role + ".pt"))
            torch.save({"model": {"decoder." + k: v for k, v in module.state_dict().items()}}, ckpts[-1])
        subprocess.run([sys.executable, os.path.join(here, "export_mmdit.py"),
                        "--module", "make_token_fixture:TinyTokenDecoder", "--path", here,
                        "--checkpoint", ckpts[0], "--checkpoint-key", "model", "--strip-prefix", "decoder.",
                        "--student-checkpoint", ckpts[1], "--context-kwarg", "context",
                        "--stages", str(stages), "--image-size", str(IMAGE_SIZE),
                        "--guidance-scale", str(GUIDANCE["scale"]), "--guidance-low", str(GUIDANCE["low"]),
                        "--guidance-high", str(GUIDANCE["high"]), "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "model.json")) as f:
        manifest = json.load(f)
    if manifest["teacher"] != "teacher.pt" or manifest["student"] != "student.pt" or \
            manifest.get("studentNullContext") != "student_context_null.bin":
        raise SystemExit("unexpected export: %s" % manifest)
    sched = rs.schedule_from_authors(stages)

    # Decode with the saved files, as the Java side loads them.
    def load(pt, null_file):
        return (torch.jit.load(os.path.join(out, pt)),
                torch.from_numpy(np.fromfile(os.path.join(out, null_file), dtype="<f4").reshape(1, TOKENS, DIM)))

    networks = {"multiscale": load("teacher.pt", "context_null.bin"),
                "onestep": load("student.pt", "student_context_null.bin")}
    rng = np.random.default_rng(CONTEXT_SEED)
    contexts = rng.standard_normal((len(IDS), TOKENS, DIM)).astype(np.float32)
    decodes = []
    runs = [("multiscale", steps, w) for steps in STEPS for w in SCALES] + [("onestep", 1, w) for w in SCALES]
    for mode, steps, w in runs:
        net, null = networks[mode]
        counted = Counted(net)
        img = rs.decode(counted, null, torch.from_numpy(contexts), IDS, SEED, sched, steps, w, GUIDANCE["low"],
                        GUIDANCE["high"], IMAGE_SIZE)
        decodes.append({
            "mode": mode,
            "stepsPerStage": steps,
            "cfgScale": w,
            # the reference sends all rows of a step in one call: its calls are the passes per image
            "forwardPassesPerImage": counted.calls,
            "networkRowsPerImage": counted.rows // len(IDS),
            "images": F32(img.numpy()),
        })
        print("%s %-10s N=%-2d W=%.1f calls=%d rows/image=%d range=[%.4f, %.4f] mean=%.4f" % (
            os.path.basename(out), mode, steps, w, counted.calls, counted.rows // len(IDS), img.min().item(),
            img.max().item(), img.mean().item()))
    expected = {
        "description": "Reference decodes by scripts/torch/reference_sampler.py (a loop written in this repository "
                       "to the semantics of the method authors' multiscale decode loop, with Mipflow's RowNoise; "
                       "renoise positive): multiscale with teacher.pt, onestep with student.pt (one step per "
                       "stage, its own null latent); float32 NCHW, row-major, before clamping",
        "torch": torch.__version__,
        "seed": SEED,
        "ids": IDS,
        "contextShape": [len(IDS), TOKENS, DIM],
        "contexts": F32(contexts),
        "imageShape": [len(IDS), 3, IMAGE_SIZE, IMAGE_SIZE],
        "guidanceLow": GUIDANCE["low"],
        "guidanceHigh": GUIDANCE["high"],
        "decodes": decodes,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        f.write(to_json(expected))
        f.write("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "udf", "src", "test", "resources", "token-decoder"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args()
    torch.set_num_threads(1)  # single-threaded kernels: reproducible sums
    print("parameters:", sum(p.numel() for p in TinyTokenDecoder().parameters()))
    for name, (stages, seed, student_seed) in MODELS.items():
        make_model_dir(os.path.join(args.out, name), stages, seed, student_seed)
    for root, _dirs, files in sorted(os.walk(args.out)):
        for n in sorted(files):
            p = os.path.join(root, n)
            print("%-40s %8d bytes" % (os.path.relpath(p, args.out), os.path.getsize(p)))


if __name__ == "__main__":
    main()
