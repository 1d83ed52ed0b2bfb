"""Writes the TorchScript test fixture of udf/src/test/resources/torchscript/.

    scripts/torch/python scripts/torch/make_fixture.py [--out DIR]

Files (all deterministic for a given torch version):
  teacher.pt, student.pt   TinyDecoder scripted with torch.jit.script, seeds 1234 and 5678
  bad-arity.pt             forward(x, t): two inputs
  bad-shape.pt             returns [N,1,H,W]
  bad-dtype.pt             returns float64
  fails-on-large-latent.pt follows the contract but raises when a latent holds |z| > 100
  model.json               format, files, latent channels, downsample, schedule, SHA-256 of the two models
  expected.json            two latents and the decodes of modes full / multiscale / onestep computed
                           with mipflow_sampler (the Python port of the Java samplers and RowNoise)

The forward contract of teacher.pt and student.pt:
    forward(x: Tensor[N,3,H,W] float32, t: Tensor[N] float32, z: Tensor[N,C,h,w] float32)
        -> Tensor[N,3,H,W] float32
x is the state in image range [-1, 1], t the global flow time of every row (1 = pure noise,
0 = clean image, x_t = (1 - t) x0 + t eps), z the latent at its stored size (H = 8 h for the full
image; the coarser pyramid stages have H = 4 h and 2 h): the model resizes z itself (nearest).
The output is the velocity dx/dt. The Java Sampler steps a stage in its local time u
(x <- x - du * v_u), so the TorchScript VelocityModel returns v_u = (float) ((start_k - end_k) * v)
in pyramid stage k and v itself in the full-resolution flow (where t = u); expected.json is
computed that way ("velocity": "dt"). --velocity du writes the alternative reference where the
sampler uses the model's output unchanged in every stage.
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

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mipflow_sampler as ms  # noqa: E402
import row_memory  # noqa: E402

LATENT_CHANNELS = 4
DOWNSAMPLE = 8
STAGES = 3
GAMMA = 1.0 / 3.0
SEED = 7
IDS = ["row-a", "row-b"]
LATENT_SHAPE = (LATENT_CHANNELS, 4, 4)
FULL_STEPS = 8
STAGE_STEPS = [2, 2, 2]
TEACHER_SEED = 1234
STUDENT_SEED = 5678


class TinyDecoder(nn.Module):
    """A small velocity network with the TorchScript contract (about 30k parameters).

    The time enters as a sinusoidal embedding mapped to a per-channel bias; z, resized to x's
    size by nearest neighbour, enters through a 1x1 convolution."""

    def __init__(self, latent_channels: int = LATENT_CHANNELS, width: int = 32, frequencies: int = 8):
        super().__init__()
        self.x_in = nn.Conv2d(3, width, 3, padding=1)
        self.z_in = nn.Conv2d(latent_channels, width, 1)
        self.t_in = nn.Linear(2 * frequencies, width)
        self.body1 = nn.Conv2d(width, width, 3, padding=1)
        self.body2 = nn.Conv2d(width, width, 3, padding=1)
        self.body3 = nn.Conv2d(width, width, 3, padding=1)
        self.out = nn.Conv2d(width, 3, 3, padding=1)
        freqs = torch.exp(torch.arange(frequencies, dtype=torch.float32) * (math.log(1000.0) / frequencies))
        self.register_buffer("freqs", freqs)
        with torch.no_grad():  # keep the velocity of order 1 so that decodes stay in a sane range
            self.out.weight.mul_(0.5)

    def forward(self, x: torch.Tensor, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        zr = F.interpolate(z, size=[x.shape[2], x.shape[3]], mode="nearest")
        angles = t.unsqueeze(1) * self.freqs.unsqueeze(0)
        emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
        bias = self.t_in(emb).unsqueeze(2).unsqueeze(3)
        h = F.silu(self.x_in(x) + self.z_in(zr) + bias)
        h = h + F.silu(self.body1(h))
        h = h + F.silu(self.body2(h))
        h = h + F.silu(self.body3(h))
        return self.out(h)


class BadArity(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * t.view(-1, 1, 1, 1)


class BadShape(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * t.view(-1, 1, 1, 1)


class BadDtype(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (self.conv(x) * t.view(-1, 1, 1, 1)).to(torch.float64)


class FailsOnLargeLatent(nn.Module):
    """Follows the contract, but raises on some inputs: a batch whose latent holds |z| > 100."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if bool((z.abs() > 100.0).any()):
            raise RuntimeError("latent out of range")
        return self.conv(x) * t.view(-1, 1, 1, 1)


def scripted(module_class, seed, **kw):
    torch.manual_seed(seed)
    m = module_class(**kw).eval()
    return torch.jit.script(m)


def save(module, path):
    torch.jit.save(module, path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def param_count(m):
    return sum(p.numel() for p in m.parameters())


def floats(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "udf", "src", "test", "resources", "torchscript"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--velocity", choices=["dt", "du"], default="dt",
                    help="dt: forward returns dx/dt, scaled by start-end in pyramid stages (default); "
                         "du: forward's output is used unchanged")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)  # single-threaded kernels: reproducible sums, modest CPU use

    teacher = scripted(TinyDecoder, TEACHER_SEED)
    student = scripted(TinyDecoder, STUDENT_SEED)
    files = {
        "teacher.pt": teacher,
        "student.pt": student,
        "bad-arity.pt": scripted(BadArity, 11),
        "bad-shape.pt": scripted(BadShape, 12),
        "bad-dtype.pt": scripted(BadDtype, 13),
        "fails-on-large-latent.pt": scripted(FailsOnLargeLatent, 14),
    }
    for name, m in files.items():
        save(m, os.path.join(args.out, name))

    # Decode with the saved files, as the Java side will load them.
    teacher = torch.jit.load(os.path.join(args.out, "teacher.pt"))
    student = torch.jit.load(os.path.join(args.out, "student.pt"))

    manifest = {
        "format": "torchscript",
        "teacher": "teacher.pt",
        "student": "student.pt",
        "latentChannels": LATENT_CHANNELS,
        "downsample": DOWNSAMPLE,
        "schedule": {
            "stages": STAGES,
            "gamma": GAMMA,
            "timeConvention": "x_t = (1-t) x0 + t eps; t = 1 is pure noise",
            "imageRange": "[-1, 1]",
        },
        "sha256": {n: sha256(os.path.join(args.out, n)) for n in ("teacher.pt", "student.pt")},
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    # activation memory per row from PyTorch's allocator (model.json "memory"; torch 2.x only)
    row_memory.measure_into(args.out)
        f.write("\n")

    torch.manual_seed(0)
    z = torch.randn(len(IDS), *LATENT_SHAPE, dtype=torch.float32)
    schedule = ms.StageSchedule(STAGES, GAMMA)
    velocity = ms.TorchScriptVelocity(teacher, student, schedule, args.velocity)
    modes = {}
    with torch.inference_mode():
        for mode in ("full", "multiscale", "onestep"):
            sampler = ms.Sampler(velocity, schedule, mode, full_steps=FULL_STEPS, stage_steps=STAGE_STEPS,
                                 downsample=DOWNSAMPLE)
            img = sampler.decode(z, ms.ExactNoise(SEED, IDS))
            modes[mode] = {
                "model": "student" if mode == "onestep" else "teacher",
                "forwardPasses": sampler.forward_passes(),
                "shape": list(img.shape),
                "images": floats(img),
            }
            print("%-10s passes=%d range=[%.4f, %.4f] mean=%.4f" % (
                mode, sampler.forward_passes(), img.min().item(), img.max().item(), img.mean().item()))
    expected = {
        "description": "Reference decodes of the fixture models by scripts/torch/mipflow_sampler.py, a "
                       "port of org.mipflow.sampling.Sampler and RowNoise; float32 NCHW, row-major, "
                       "before clamping to [-1, 1]",
        "torch": torch.__version__,
        "seed": SEED,
        "ids": IDS,
        "latentShape": [len(IDS)] + list(LATENT_SHAPE),
        "latents": floats(z),
        "imageShape": [len(IDS), 3, LATENT_SHAPE[1] * DOWNSAMPLE, LATENT_SHAPE[2] * DOWNSAMPLE],
        "velocity": args.velocity,
        "velocityNote": (
            "forward returns dx/dt; in pyramid stage k the sampler uses (float) ((start(k) - end(k)) * v), "
            "in the full-resolution flow v unchanged" if args.velocity == "dt" else
            "forward's output is used unchanged as the stage-local velocity dx/du"),
        "stageSpans": [schedule.start(k) - schedule.end(k) for k in range(STAGES)],
        "fullSteps": FULL_STEPS,
        "stageSteps": STAGE_STEPS,
        "modes": modes,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print("teacher parameters:", param_count(torch.jit.load(os.path.join(args.out, "teacher.pt"))))
    for n in sorted(os.listdir(args.out)):
        print("%-14s %7d bytes" % (n, os.path.getsize(os.path.join(args.out, n))))


if __name__ == "__main__":
    main()
