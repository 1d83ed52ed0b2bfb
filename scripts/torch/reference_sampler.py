"""Reference multiscale sampler for token-conditioned diffusion decoders (issues #21, #31).

    import reference_sampler as rs
    sched = rs.schedule_from_authors(3)                  # the "schedule" numbers of model.json
    img = rs.decode(module, null_context, context, ids, seed, sched, steps_per_stage=10,
                    cfg_scale=2.0, low=0.0, high=1.0, image_size=64)
    one = rs.decode(student, student_null, context, ids, seed, sched, 1, 2.0, 0.0, 1.0, 64)  # onestep

The decoders are those of the multi-stage tokenizer distillation method (MMDiT decoders trained with
a pyramid of K resolution stages, and the one-step students distilled from them with ADD). This is
not the authors' code: it is a decode loop written here to the semantics of theirs (stage loop, jump
between stages, Euler steps on their grid, classifier-free guidance with the network's own learned
null latent), with one deliberate change: the noise comes from Mipflow's per-row streams
(mipflow_sampler.RowNoise), so a decode depends only on (seed, row id) and the Java side can
reproduce it. It was checked against the authors' code outside the repository (their loop on their
MMDiT with this noise injected): identical floats when tau is built their way (authors_tau=True).
Their ADD student is sampled by the same loop with num_steps=1 and the student's weights (its own
context_null included), which is decode(student, student_null, ..., steps_per_stage=1, ...) here.

Model contract (TorchScript or any callable):
    forward(x [N,3,H,W] f32, t [N] f32, context [N,T,D] f32) -> [N,3,H,W] f32
t is the network time tau of the step (the authors' timestep / 1000, the same for every row), the
output the stage-local velocity dx/du (the authors' training target x_start_noisy - x_end_noisy).

Arithmetic, step by step (float32 unless said otherwise). The Java side (org.mipflow.sampling.Sampler)
computes the same values but not always with the same roundings: where this loop multiplies and adds
float32 tensors op by op (jump, Euler step), Java computes the expression in double and rounds it to
float once. Decodes agree to a few 1e-6 (TokenDecoderTest prints the figure), not bit for bit.
  noise     one RowNoise(seed, id) per row. Initial state: 3*h0*w0 Gaussians (plane-major, row-major),
            h0 = S / 2^(K-1), each double rounded to float32. Jump into stage k >= 1: block noise
            [3, 2h, 2w] in block_noise_exact's draw order (per plane, per 2x2 block in row-major
            block order, Gaussians a, b, c, d for pixels (0,0), (0,1), (1,0), (1,1)) with the
            covariance (1-gamma) I + gamma J ("renoise": "positive", the authors'):
              scale = sqrt(1 - gamma), beta = sqrt((1 + 3 gamma) / (1 - gamma)) - 1   (double)
              m = beta * (a + b + c + d) / 4.0; pixel = scale * (a + m), ...          (double)
            rounded to float32 once. ("negative" = block_noise_exact itself, Mipflow's default.)
  jump      x <- a * nearest_up2(x) + b * n with a = 1 / (sqrt(1 + 1/gamma) (1 - o) + o),
            b = a (1 - o) / sqrt(gamma), o = 1 - nominalStarts[k] (doubles). As in the authors' loop
            this is torch float32 arithmetic with Python-float scalars: (float) a * up, (float) b * n,
            each product rounded to float32, then a float32 sum.
  grid      stage with N steps: u = float32(numpy float64 linspace(1, gridEnd, N)) with 0.0 appended;
            tau = float32(numpy float64 linspace(tauMax_k, tauMin_k, N)).
            (The authors build tau as float32(linspace(T_max, T_min, N)) / 1000 in float32 from their
            1000-scale timesteps; timeWindows holds T/1000 in double. The two differ at most by one
            float32 ulp of tau in some steps; see authors_tau.)
  step      v = f(x, tau_i, c); with guidance (cfg_scale > 1 and low <= tau_i <= high, tau_i as
            float32 compared in double): one call with rows [x; x], contexts [c; null] (cond first),
            v = v_u + (float) W * (v_c - v_u). Then x <- x + (u_{i+1} - u_i) * v: float32
            difference of the float32 grid values, float32 product, float32 sum.
  output    the final x (float32, not clamped). 8-bit: clamp(round((x + 1) * 127.5), 0, 255).
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mipflow_sampler as ms  # noqa: E402

GRID_END = 0.001
TRAIN_TIMESTEPS = 1000


# ---------------------------------------------------------------------------------------------
# Schedule numbers, as the authors' training loss and decode loop derive them


def _rectify_ratio(o, gamma):
    """The authors' rescaling of a jump: 1 / (sqrt(1 + 1/gamma) (1 - o) + o), o = 1 - nominal start."""
    return 1.0 / (math.sqrt(1.0 + 1.0 / gamma) * (1.0 - o) + o)


def schedule_from_authors(num_stages, gamma=1.0 / 3.0, numpy_float32_linspace=False):
    """The schedule block of a token-decoder model.json for K = num_stages stages.

    Recomputes the authors' per-stage numbers (1000 training levels k/1000 in float32, uniform
    stage split of the level indices, rectified stage starts, stage shares of the total flow
    length, per-stage timestep ranges of 1000 + 1 points of which the first 1000 are kept):
      nominalStarts[k] = level at index int(k/K * 1000) (their orig_start_t; 1.0 for k = 0)
      ends[k]          = level at index int((k+1)/K * 1000), 0.0 for the last stage (their end_t)
      timeWindows[k]   = [T_k[0] / 1000, T_k[999] / 1000], T_k = linspace(Tmax_k, Tmin_k, 1001) in
                         float64 (numpy 1.x; numpy 2 evaluates it in float32 because Tmax_k, Tmin_k
                         are float32 tensors: numpy_float32_linspace=True reproduces that).
    All values are doubles (float32 values exactly where the authors hold float32)."""
    n = TRAIN_TIMESTEPS
    k_stages = int(num_stages)
    # levels[i] = (n - i) / n in float32, i = 0..n-1 (descending; their shift of 1.0 is the identity)
    levels = np.arange(n, 0, -1).astype(np.float32) / np.float32(n)
    scaled = levels * np.float32(n)  # their 1000-scale timesteps, float32 products
    share = 1.0 / k_stages
    nominal, ends, starts = [], [], []
    for k in range(k_stages):
        i0 = max(int(share * k * n), 0)
        i1 = min(int(share * (k + 1) * n), n)
        s = float(levels[i0])
        e = float(levels[i1]) if i1 < n else 0.0
        nominal.append(s)
        ends.append(e)
        starts.append(s if k == 0 else 1.0 - _rectify_ratio(1.0 - s, gamma) * (1.0 - s))
    lengths = [starts[k] - ends[k] for k in range(k_stages)]
    total = sum(lengths)
    windows, windows_1000 = [], []
    for k in range(k_stages):
        r0 = 0.0 if k == 0 else sum(lengths[:k]) / total
        r1 = 1.0 if k == k_stages - 1 else sum(lengths[:k + 1]) / total
        t_hi = scaled[int(r0 * n)]
        t_lo = scaled[min(int(r1 * n), n - 1)]
        if numpy_float32_linspace:
            line = np.linspace(np.float32(t_hi), np.float32(t_lo), n + 1, dtype=np.float32)
        else:
            line = np.linspace(float(t_hi), float(t_lo), n + 1)
        first, last = float(line[0]), float(line[n - 1])
        windows_1000.append([first, last])
        windows.append([first / n, last / n])
    return {
        "stages": k_stages,
        "gamma": gamma,
        "timeConvention": "x_t = (1-t) x0 + t eps; t = 1 is pure noise",
        "imageRange": "[-1, 1]",
        "nominalStarts": nominal,
        "ends": ends,
        "networkTime": "windows",
        "timeWindows": windows,
        "velocity": "stage-local",
        "grid": "authors",
        "gridEnd": GRID_END,
        "renoise": "positive",
        # not part of model.json: the authors' 1000-scale values and rectified starts, for checks
        "_timeWindows1000": windows_1000,
        "_rectifiedStarts": starts,
    }


def manifest_schedule(sched):
    """The schedule dict without the private (underscore) entries, for model.json."""
    return {k: v for k, v in sched.items() if not k.startswith("_")}


# ---------------------------------------------------------------------------------------------
# Noise


def block_noise(planes, h, w, gamma, rng, renoise="positive"):
    """Block noise of one row, float32 [planes, h, w], drawn in block_noise_exact's order."""
    if renoise not in ("positive", "negative"):
        raise ValueError("renoise must be positive or negative")
    return ms.block_noise_exact(planes, h, w, gamma, rng, gamma if renoise == "positive" else -gamma)


class RowNoiseSource:
    """Mipflow's per-row noise, in the order the token-decoder sampler draws it."""

    def __init__(self, seed, ids, gamma, renoise="positive"):
        self.rngs = [ms.RowNoise(seed, i) for i in ids]
        self.gamma = gamma
        self.renoise = renoise

    def initial(self, planes, h, w):
        rows = [torch.tensor(r.gaussians(planes * h * w), dtype=torch.float64).to(torch.float32)
                for r in self.rngs]
        return torch.stack(rows).reshape(len(self.rngs), planes, h, w)

    def block(self, planes, h, w):
        return torch.stack([block_noise(planes, h, w, self.gamma, r, self.renoise) for r in self.rngs])


# ---------------------------------------------------------------------------------------------
# Sampler


def jump_coefficients(sched, k):
    """(a, b) of the jump into stage k (doubles)."""
    o = 1.0 - sched["nominalStarts"][k]
    a = _rectify_ratio(o, sched["gamma"])
    b = a * (1.0 - o) / math.sqrt(sched["gamma"])
    return a, b


def stage_grid(sched, k, steps, authors_tau=False):
    """(u, tau) of stage k: u float32 [steps + 1] (last 0), tau float32 [steps]."""
    u = np.append(np.linspace(1.0, float(sched.get("gridEnd", GRID_END)), steps), 0.0)
    if authors_tau:  # the authors' construction from the 1000-scale timesteps
        t_hi, t_lo = sched["_timeWindows1000"][k]
        tau = torch.from_numpy(np.linspace(t_hi, t_lo, steps)).to(torch.float32) / 1000.0
    else:
        t_hi, t_lo = sched["timeWindows"][k]
        tau = torch.from_numpy(np.linspace(t_hi, t_lo, steps)).to(torch.float32)
    return torch.from_numpy(u).to(torch.float32), tau


def _steps_list(steps_per_stage, k_stages):
    if isinstance(steps_per_stage, int):
        return [steps_per_stage] * k_stages
    steps = list(steps_per_stage)
    if len(steps) != k_stages:
        raise ValueError("one step count per stage needed")
    return steps


def decode(module, null_context, context, ids, seed, schedule_dict, steps_per_stage, cfg_scale, low, high,
           image_size, renoise=None, authors_tau=False, noise=None):
    """Decode B rows of token latents; returns float32 [B, 3, S, S] (not clamped).

    module(x, t, context) -> stage-local velocity; null_context [T, D] or [1, T, D]; context [B, T, D];
    ids: B row ids; seed: Mipflow's global seed; steps_per_stage: int or one per stage; guidance when
    cfg_scale > 1 and low <= tau <= high. renoise defaults to schedule_dict["renoise"] ("positive").
    noise: optional object with initial(planes, h, w) and block(planes, h, w) replacing RowNoise."""
    sched = schedule_dict
    k_stages = int(sched["stages"])
    steps = _steps_list(steps_per_stage, k_stages)
    context = torch.as_tensor(context, dtype=torch.float32)
    b = context.shape[0]
    if len(ids) != b:
        raise ValueError("one id per context row needed")
    null = torch.as_tensor(null_context, dtype=torch.float32).reshape(1, context.shape[1], context.shape[2])
    null_rows = null.expand(b, -1, -1)
    if noise is None:
        noise = RowNoiseSource(seed, ids, sched["gamma"], renoise or sched.get("renoise", "positive"))
    side = image_size // (1 << (k_stages - 1))
    if side * (1 << (k_stages - 1)) != image_size:
        raise ValueError("image size %d is not divisible by 2^(K-1)" % image_size)
    with torch.no_grad():
        x = noise.initial(3, side, side)
        for k in range(k_stages):
            if k > 0:
                a, bb = jump_coefficients(sched, k)
                up = ms.nearest_up2(x)
                n = noise.block(3, 2 * side, 2 * side)
                side *= 2
                x = a * up + bb * n  # float32 tensors, double scalars: as the authors' loop
            u, tau = stage_grid(sched, k, steps[k], authors_tau)
            for i in range(steps[k]):
                ti = tau[i]
                guided = cfg_scale > 1.0 and low <= float(ti) <= high
                if guided:
                    xin = torch.cat([x, x], dim=0)
                    cin = torch.cat([context, null_rows], dim=0)
                else:
                    xin = x
                    cin = context
                tt = torch.ones(xin.shape[0], dtype=torch.float32) * ti
                v = module(xin, tt, cin)
                if guided:
                    v_c, v_u = v.chunk(2)
                    v = v_u + cfg_scale * (v_c - v_u)
                x = x + (u[i + 1] - u[i]) * v
    return x


def to_uint8(x):
    """clamp(floor((x + 1) * 127.5 + 0.5), 0, 255) as uint8 (round half up) (the authors' clamp(127.5 x + 128) truncated)."""
    return torch.clamp(torch.floor((x.to(torch.float64) + 1.0) * 127.5 + 0.5), 0, 255).to(torch.uint8)
