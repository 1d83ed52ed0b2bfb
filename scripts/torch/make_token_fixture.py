"""Writes the token-decoder test fixture of udf/src/test/resources/token-decoder/ (issue #21).

    scripts/torch/python scripts/torch/make_token_fixture.py [--out DIR]

Two model directories, k3/ (K = 3 stages: 16, 32, 64 px) and k4/ (K = 4: 8, 16, 32, 64 px), each with
  teacher.pt        TinyTokenDecoder scripted with torch.jit.script (any N, H, W divisible by the patch)
  context_null.bin  the module's learned null latent context_null [1, T, D]: T*D float32 little-endian,
                    token-major
  model.json        the token-decoder manifest (format, teacher, latent, imageSize, nullContext,
                    guidance, modes, schedule from reference_sampler.schedule_from_authors(K), sha256)
  expected.json     two rows (ids tok-a, tok-b, seed 7) with contexts [2, T, D] from a seeded numpy
                    generator and their decodes by reference_sampler.decode for N in {1, 10} steps per
                    stage and guidance W in {1, 2} (float32 NCHW flattened row-major, not clamped)

Deterministic for a given torch version (pins PYTHONHASHSEED like make_fixture.py, one thread).
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
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402

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
MODELS = {"k3": (3, 3101), "k4": (4, 3102)}  # directory: (stages, torch seed)


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


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_null(param, path):
    arr = param.detach().to(torch.float32).reshape(-1).numpy().astype("<f4")
    with open(path, "wb") as f:
        f.write(arr.tobytes())


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


def make_model_dir(out, stages, torch_seed):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(torch_seed)
    module = TinyTokenDecoder().eval()
    scripted = torch.jit.script(module)
    torch.jit.save(scripted, os.path.join(out, "teacher.pt"))
    write_null(module.context_null, os.path.join(out, "context_null.bin"))
    sched = rs.schedule_from_authors(stages)
    manifest = {
        "format": "torchscript",
        "teacher": "teacher.pt",
        "latent": {"kind": "tokens", "tokens": TOKENS, "dim": DIM},
        "imageSize": IMAGE_SIZE,
        "nullContext": "context_null.bin",
        "guidance": dict(GUIDANCE),
        "modes": ["multiscale"],
        "schedule": rs.manifest_schedule(sched),
        "sha256": {n: sha256(os.path.join(out, n)) for n in ("teacher.pt", "context_null.bin")},
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    # activation memory per row from PyTorch's allocator (model.json "memory"; torch 2.x only)
    row_memory.measure_into(out)

    # Decode with the saved files, as the Java side loads them.
    teacher = torch.jit.load(os.path.join(out, "teacher.pt"))
    null = np.fromfile(os.path.join(out, "context_null.bin"), dtype="<f4").reshape(1, TOKENS, DIM)
    rng = np.random.default_rng(CONTEXT_SEED)
    contexts = rng.standard_normal((len(IDS), TOKENS, DIM)).astype(np.float32)
    decodes = []
    for steps in STEPS:
        for w in SCALES:
            img = rs.decode(teacher, torch.from_numpy(null), torch.from_numpy(contexts), IDS, SEED, sched,
                            steps, w, GUIDANCE["low"], GUIDANCE["high"], IMAGE_SIZE)
            guided = w > 1.0
            decodes.append({
                "stepsPerStage": steps,
                "cfgScale": w,
                "forwardCalls": stages * steps,
                "forwardRows": stages * steps * len(IDS) * (2 if guided else 1),
                "images": F32(img.numpy()),
            })
            print("%s N=%-2d W=%.1f range=[%.4f, %.4f] mean=%.4f" % (
                os.path.basename(out), steps, w, img.min().item(), img.max().item(), img.mean().item()))
    expected = {
        "description": "Reference decodes of teacher.pt by scripts/torch/reference_sampler.py (the authors' "
                       "multiscale decode loop with Mipflow's RowNoise; renoise positive); float32 NCHW, "
                       "row-major, before clamping",
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
    return module


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "udf", "src", "test", "resources", "token-decoder"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args()
    torch.set_num_threads(1)  # single-threaded kernels: reproducible sums
    for name, (stages, seed) in MODELS.items():
        module = make_model_dir(os.path.join(args.out, name), stages, seed)
        if name == "k3":
            print("parameters:", sum(p.numel() for p in module.parameters()))
    for root, _dirs, files in sorted(os.walk(args.out)):
        for n in sorted(files):
            p = os.path.join(root, n)
            print("%-40s %8d bytes" % (os.path.relpath(p, args.out), os.path.getsize(p)))


if __name__ == "__main__":
    main()
