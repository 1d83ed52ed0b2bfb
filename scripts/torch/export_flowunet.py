"""Writes the TorchScript twin of the native decoder network (org.mipflow.model.FlowUNet).

    scripts/torch/python scripts/torch/export_flowunet.py [--out FILE]

Default output: udf/src/main/resources/org/mipflow/model/flowunet.pt, which the udf jar ships and
FastFlowUNet (Java) loads. The module holds no weights: Java hands it the native model's
parameters once (method set_weights) together with the precision and memory layout to run in,
and the module converts them there. So every native model directory (any widths, any training
run) can run on the fast path, and decoder.params / student.params stay the only copy of the
weights.

Why TorchScript: DJL 0.33 cannot create bfloat16 tensors on the CPU (the JVM aborts) and has no
memory-format setting, but a TorchScript module that converts inside its own code reaches
libtorch's bf16 and channels-last kernels while DJL only ever sees float32 (docs/METHOD.md
sections 7 and 8.3).

Contract (all positional; NDArray names from Java select the dict input, see FastFlowUNet):
    set_weights(w: Dict[str, Tensor] float32, mode: Tensor[2] int64 (bf16, channels_last)) -> Tensor[1]
    forward(x [N,3,H,W] f32, tf [N,F] f32, z [N,C,h,w] f32) -> dx/du [N,3,H,W] f32, NCHW contiguous
tf are the time features of TimeFeatures.java (sinusoids of t and the stage one-hot), so the twin
computes exactly what FlowUNet computes: the same layers in the same order on the same inputs.

What runs in which precision when bf16 is on: the convolutions, channel norms, SiLUs and resizes
(the bulk of the work) in bfloat16; the time-embedding MLP and the per-block embedding projections
(tiny, and the sinusoid features need float32's resolution) in float32, their result cast once per
block; the output leaves as float32. The sampler's state and its stage jumps never enter the module.
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    # TorchScript writes constants in set order, which follows the string hash: pin it so that
    # the .pt bytes (and the SHA-256 recorded in FastFlowUNet) do not change from run to run.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
import hashlib  # noqa: E402
from typing import Dict  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import Tensor  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "udf", "src", "main", "resources", "org", "mipflow", "model", "flowunet.pt")



class FlowUNetTwin(torch.nn.Module):
    w: Dict[str, Tensor]
    bf16: bool
    channels_last: bool

    def __init__(self):
        super().__init__()
        self.w = {}
        self.bf16 = False
        self.channels_last = False

    @torch.jit.export
    def set_weights(self, w: Dict[str, Tensor], mode: Tensor) -> Tensor:
        self.bf16 = bool(mode[0].item() != 0)
        self.channels_last = bool(mode[1].item() != 0)
        out: Dict[str, Tensor] = {}
        for name, p in w.items():
            # The embedding projections stay float32 (see the module docstring).
            keep_f32 = name.startswith("dec.t1.") or name.startswith("dec.t2.") or ".emb." in name
            q = p.detach().clone()
            if self.bf16 and not keep_f32:
                q = q.to(torch.bfloat16)
            if self.channels_last and q.dim() == 4:
                q = q.contiguous(memory_format=torch.channels_last)
            out[name] = q
        self.w = out
        return torch.tensor([len(out)])

    def _layout(self, x: Tensor) -> Tensor:
        if self.channels_last:
            return x.contiguous(memory_format=torch.channels_last)
        return x.contiguous()

    def _conv(self, x: Tensor, name: str, stride: int) -> Tensor:
        k = self.w[name + ".w"]
        return F.conv2d(x, k, self.w[name + ".b"], stride, k.shape[-1] // 2)

    def _dense(self, x: Tensor, name: str) -> Tensor:
        return F.linear(x, self.w[name + ".w"], self.w[name + ".b"])

    def _norm(self, x: Tensor, name: str) -> Tensor:
        # Layer norm over each pixel's channels, as Layers.ChannelNorm: in channels-last memory the
        # NHWC view is contiguous, so this costs no copy there.
        g = self.w[name + ".g"]
        y = F.layer_norm(x.permute(0, 2, 3, 1), [g.shape[0]], g, self.w[name + ".b"], 1e-5)
        return self._layout(y.permute(0, 3, 1, 2))

    def _res(self, x: Tensor, emb: Tensor, name: str) -> Tensor:
        h = self._conv(F.silu(self._norm(x, name + ".n1")), name + ".c1", 1)
        e = self._dense(emb, name + ".emb").to(h.dtype)
        h = h + e.reshape(e.shape[0], e.shape[1], 1, 1)
        h = self._conv(F.silu(self._norm(h, name + ".n2")), name + ".c2", 1)
        if (name + ".skip.w") in self.w:
            return self._conv(x, name + ".skip", 1) + h
        return x + h

    def _with_latent(self, h: Tensor, z: Tensor, name: str) -> Tensor:
        # FlowUNet's latent entries at the coarser levels: a model has them when trained with
        # --latent-levels 2 or 3, and its weights then name them.
        if (name + ".w") not in self.w:
            return h
        z_at = self._layout(F.interpolate(z, size=[h.shape[2], h.shape[3]], mode="nearest").to(h.dtype))
        return h + self._conv(z_at, name, 1)

    def _up(self, x: Tensor) -> Tensor:
        return self._layout(F.interpolate(x, size=[x.shape[2] * 2, x.shape[3] * 2], mode="nearest"))

    def forward(self, x: Tensor, tf: Tensor, z: Tensor) -> Tensor:
        if len(self.w) == 0:
            raise RuntimeError("set_weights was not called")
        dt = torch.bfloat16 if self.bf16 else torch.float32
        emb = F.silu(self._dense(F.silu(self._dense(tf, "dec.t1")), "dec.t2"))
        z_up = F.interpolate(z, size=[x.shape[2], x.shape[3]], mode="nearest")
        h = self._layout(torch.cat([x, z_up], 1).to(dt))
        h0 = self._res(self._conv(h, "dec.in", 1), emb, "dec.e0")
        h1 = self._res(self._with_latent(self._conv(h0, "dec.down1", 2), z, "dec.z1"), emb, "dec.e1")
        h2 = self._conv(h1, "dec.down2", 2)
        h2 = self._res(self._res(self._with_latent(h2, z, "dec.z2"), emb, "dec.m1"), emb, "dec.m2")
        u1 = self._conv(self._up(h2), "dec.up1", 1)
        g1 = self._res(self._layout(torch.cat([u1, h1], 1)), emb, "dec.d1")
        u0 = self._conv(self._up(g1), "dec.up0", 1)
        g0 = self._res(self._layout(torch.cat([u0, h0], 1)), emb, "dec.d0")
        y = self._conv(F.silu(self._norm(g0, "dec.nout")), "dec.out", 1)
        return y.float().contiguous()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    module = torch.jit.script(FlowUNetTwin())
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    module.save(out)
    with open(out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{out}: {os.path.getsize(out)} bytes, sha256 {digest} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
