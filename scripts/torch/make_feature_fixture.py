"""Writes the feature-network test fixture of udf/src/test/resources/features/ and the reference
rFID and KID that Mipflow's figures are checked against.

    scripts/torch/python scripts/torch/make_feature_fixture.py [--out DIR]

Files:
  good/features.pt, good/model.json    TinyFeatures scripted (seed 31): forward(x [N,3,S,S]) -> [N,16]
  bad-shape/...                        the same network returning [N,8] while model.json says 16
  nan/...                              returns NaN features
  images.bin                           2 x 40 images, uint8 planar [3,64,64]: 40 "references" then
                                       40 "decodes" (the references blurred, shifted and noised)
  expected.json                        each image's features as PyTorch computes them (uint8 ->
                                       float, F.interpolate bilinear align_corners=False to S,
                                       scaled to [-1, 1], the module), and rFID and KID over them

The reference figures follow the usual definitions, written here with numpy only:
  rFID = |mu_r - mu_d|^2 + Tr(S_r + S_d) - 2 Tr((S_r S_d)^1/2), covariances as numpy.cov (n - 1),
         Tr((S_r S_d)^1/2) as the sum of the square roots of the eigenvalues of the (non-symmetric)
         product S_r S_d (what scipy.linalg.sqrtm's trace is; a route Mipflow does not take);
  KID  = the unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 over all 40 pairs (a subset of the
         whole set, so no random draw is involved).
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"   # TorchScript constant order follows the string hash
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SIZE = 64          # the images' side
INPUT = 48         # the network's input side (the images are resized to it)
DIM = 16
N = 40


class TinyFeatures(nn.Module):
    """Two strided convolutions, pooled first and absolute moments, a linear map."""

    def __init__(self, out_dim: int, poison: bool = False):
        super().__init__()
        self.c1 = nn.Conv2d(3, 12, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(12, 24, 3, stride=2, padding=1)
        self.fc = nn.Linear(48, out_dim)
        self.poison = poison

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c2(torch.tanh(self.c1(x)))
        # first and absolute moments of the responses: features that tell textures apart
        f = 10.0 * self.fc(torch.cat([h.mean(dim=(2, 3)), h.abs().mean(dim=(2, 3))], dim=1))
        if self.poison:
            f = f * float("nan")
        return f


def net(out_dim: int, poison: bool = False) -> torch.jit.ScriptModule:
    torch.manual_seed(31)
    m = TinyFeatures(DIM, poison).eval()
    if out_dim != DIM:
        m.fc = nn.Linear(48, out_dim)
    return torch.jit.script(m)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_net(out: str, name: str, module: torch.jit.ScriptModule) -> None:
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    module.save(os.path.join(d, "features.pt"))
    manifest = {"format": "torchscript-features", "module": "features.pt", "inputSize": INPUT,
                "resize": "bilinear", "valueRange": "[-1, 1]", "featureDim": DIM,
                "sha256": {"features.pt": sha256(os.path.join(d, "features.pt"))}}
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def images() -> np.ndarray:
    """Smooth random colour fields (references) and degraded copies of them (decodes)."""
    rng = np.random.default_rng(2026)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    refs = []
    for _ in range(N):
        img = np.zeros((3, SIZE, SIZE))
        for c in range(3):
            for _ in range(4):
                fy, fx, ph = rng.uniform(0.5, 6), rng.uniform(0.5, 6), rng.uniform(0, 2 * np.pi)
                img[c] += rng.uniform(0.2, 1) * np.sin(2 * np.pi * (fy * yy + fx * xx) + ph)
        img = 127.5 + 50 * img + rng.normal(0, 8, img.shape)
        refs.append(np.clip(np.rint(img), 0, 255))
    refs = np.stack(refs)
    blurred = (refs + np.roll(refs, 1, axis=3) + np.roll(refs, 1, axis=2)) / 3 + 6
    decs = np.clip(np.rint(blurred + rng.normal(0, 12, refs.shape)), 0, 255)
    return np.concatenate([refs, decs]).astype(np.uint8)


def features(module: torch.jit.ScriptModule, imgs: np.ndarray) -> np.ndarray:
    out = []
    with torch.no_grad():
        for img in imgs:   # one image per call, as Mipflow calls it
            x = torch.from_numpy(img.astype(np.float32)).unsqueeze(0)
            x = F.interpolate(x, size=(INPUT, INPUT), mode="bilinear", align_corners=False)
            x = x / 127.5 - 1.0
            out.append(module(x)[0].numpy())
    return np.stack(out).astype(np.float64)


def rfid(r: np.ndarray, d: np.ndarray) -> float:
    mu_r, mu_d = r.mean(0), d.mean(0)
    s_r, s_d = np.cov(r, rowvar=False), np.cov(d, rowvar=False)
    ev = np.linalg.eigvals(s_r @ s_d)
    tr_root = np.sum(np.sqrt(np.clip(ev.real, 0, None)))
    return float(np.sum((mu_r - mu_d) ** 2) + np.trace(s_r) + np.trace(s_d) - 2 * tr_root)


def kid(r: np.ndarray, d: np.ndarray) -> float:
    dim = r.shape[1]
    k = lambda a, b: (a @ b.T / dim + 1) ** 3  # noqa: E731
    m = r.shape[0]
    kxx, kyy, kxy = k(r, r), k(d, d), k(r, d)
    return float((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../udf/src/test/resources/features"))
    out = os.path.normpath(p.parse_args().out)
    os.makedirs(out, exist_ok=True)
    good = net(DIM)
    write_net(out, "good", good)
    write_net(out, "bad-shape", net(8))
    write_net(out, "nan", net(DIM, poison=True))
    imgs = images()
    imgs.tofile(os.path.join(out, "images.bin"))
    f = features(good, imgs)
    r, d = f[:N], f[N:]
    expected = {"size": SIZE, "count": N, "dim": DIM, "features": f.tolist(), "rfid": rfid(r, d), "kid": kid(r, d),
                "torch": torch.__version__, "numpy": np.__version__}
    with open(os.path.join(out, "expected.json"), "w") as fh:
        json.dump(expected, fh)
        fh.write("\n")
    print(f"wrote {out}: rFID {expected['rfid']:.6f}, KID {expected['kid']:.6f}")


if __name__ == "__main__":
    main()
