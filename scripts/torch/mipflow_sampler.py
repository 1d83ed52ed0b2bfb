"""Python port of Mipflow's samplers and per-row noise, shared by make_fixture.py and bench_loop.py.

Mirrors, operation for operation, the Java classes
  org.mipflow.sampling.RowNoise   (FNV-1a seed, SplitMix64, Box-Muller with fdlibm log/cos)
  org.mipflow.sampling.Sampler    (full / pyramid / jump / integrate, noise draw order)
  org.mipflow.schedule.StageSchedule, BlockNoise, Resample.nearestUp2
so that make_fixture.py can write reference decodes the Java samplers must reproduce.

Arithmetic conventions copied from Java: a double expression cast to float is computed here in
float64 and rounded to float32 (round to nearest even, like Java's (float) cast); a float-float
operation stays float32. Python floats and separate torch float64 kernels round every operation
(no fused multiply-add), like Java since JDK 17.

Java's StrictMath.log / StrictMath.cos are fdlibm 5.3; glibc's log and cos (math.log, math.cos)
can differ in the last bit, so both are ported below (only the branches reachable for finite
arguments with |x| <= 2^19 pi/2; RowNoise only calls them on (0, 1) and (0, 2 pi)).
"""
import math
import struct

import torch

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


# ---------------------------------------------------------------------------------------------
# fdlibm 5.3 (as in java.lang.StrictMath)

def _bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b & MASK64))[0]


def _hi(x):
    """High 32 bits as a signed int, like fdlibm's __HI."""
    h = _bits(x) >> 32
    return h - (1 << 32) if h & 0x80000000 else h


def _set_hi(x, hi):
    return _from_bits(((hi & 0xFFFFFFFF) << 32) | (_bits(x) & 0xFFFFFFFF))


def _hex(b):
    return _from_bits(b)


_LN2_HI = _hex(0x3FE62E42FEE00000)
_LN2_LO = _hex(0x3DEA39EF35793C76)
_TWO54 = 2.0 ** 54
_LG1 = _hex(0x3FE5555555555593)
_LG2 = _hex(0x3FD999999997FA04)
_LG3 = _hex(0x3FD2492494229359)
_LG4 = _hex(0x3FCC71C51D8E78AF)
_LG5 = _hex(0x3FC7466496CB03DE)
_LG6 = _hex(0x3FC39A09D078C69F)
_LG7 = _hex(0x3FC2F112DF3E5244)


def fdlibm_log(x):
    """__ieee754_log of fdlibm 5.3 (e_log.c), for finite x > 0."""
    if x != x or x < 0.0:
        return float("nan")
    if x == 0.0:
        return float("-inf")
    if math.isinf(x):
        return x
    hx = _hi(x)
    k = 0
    if hx < 0x00100000:  # subnormal
        k -= 54
        x *= _TWO54
        hx = _hi(x)
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = _set_hi(x, hx | (i ^ 0x3FF00000))  # normalize x or x/2
    k += i >> 20
    f = x - 1.0
    if (0x000FFFFF & (2 + hx)) < 3:  # |f| < 2^-20
        if f == 0.0:
            if k == 0:
                return 0.0
            dk = float(k)
            return dk * _LN2_HI + dk * _LN2_LO
        R = f * f * (0.5 - 0.33333333333333333 * f)
        if k == 0:
            return f - R
        dk = float(k)
        return dk * _LN2_HI - ((R - dk * _LN2_LO) - f)
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    i = hx - 0x6147A
    w = z * z
    j = 0x6B851 - hx
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    i |= j
    R = t2 + t1
    if i > 0:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + R))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + R) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - R)
    return dk * _LN2_HI - ((s * (f - R) - dk * _LN2_LO) - f)


_S1 = _hex(0xBFC5555555555549)
_S2 = _hex(0x3F8111111110F8A6)
_S3 = _hex(0xBF2A01A019C161D5)
_S4 = _hex(0x3EC71DE357B1FE7D)
_S5 = _hex(0xBE5AE5E68A2B9CEB)
_S6 = _hex(0x3DE5D93A5ACFD57C)
_C1 = _hex(0x3FA555555555554C)
_C2 = _hex(0xBF56C16C16C15177)
_C3 = _hex(0x3EFA01A019CB1590)
_C4 = _hex(0xBE927E4F809C52AD)
_C5 = _hex(0x3E21EE9EBDB4B1C4)
_C6 = _hex(0xBDA8FAE9BE8838D4)


def _kernel_sin(x, y, iy):
    ix = _hi(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:
        return x
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    if iy == 0:
        return x + v * (_S1 + z * r)
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


def _kernel_cos(x, y):
    ix = _hi(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:
        return 1.0
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    if ix < 0x3FD33333:  # |x| < 0.3
        return 1.0 - (0.5 * z - (z * r - x * y))
    if ix > 0x3FE90000:  # x > 0.78125
        qx = 0.28125
    else:
        qx = _from_bits((ix - 0x00200000) << 32)
    hz = 0.5 * z - qx
    a = 1.0 - qx
    return a - (hz - (z * r - x * y))


_NPIO2_HW = [
    0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C,
    0x4025FDBB, 0x402921FB, 0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C,
    0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB, 0x403AB41B, 0x403C463A,
    0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
    0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB,
    0x404858EB, 0x404921FB,
]
_INVPIO2 = _hex(0x3FE45F306DC9C883)
_PIO2_1 = _hex(0x3FF921FB54400000)
_PIO2_1T = _hex(0x3DD0B4611A626331)
_PIO2_2 = _hex(0x3DD0B4611A600000)
_PIO2_2T = _hex(0x3BA3198A2E037073)
_PIO2_3 = _hex(0x3BA3198A2E000000)
_PIO2_3T = _hex(0x397B839A252049C1)


def _rem_pio2(x):
    """__ieee754_rem_pio2 for |x| <= 2^19 pi/2: returns (n, y0, y1)."""
    hx = _hi(x)
    ix = hx & 0x7FFFFFFF
    if ix <= 0x3FE921FB:
        return 0, x, 0.0
    if ix < 0x4002D97C:  # |x| < 3pi/4
        if hx > 0:
            z = x - _PIO2_1
            if ix != 0x3FF921FB:
                y0 = z - _PIO2_1T
                return 1, y0, (z - y0) - _PIO2_1T
            z -= _PIO2_2
            y0 = z - _PIO2_2T
            return 1, y0, (z - y0) - _PIO2_2T
        z = x + _PIO2_1
        if ix != 0x3FF921FB:
            y0 = z + _PIO2_1T
            return -1, y0, (z - y0) + _PIO2_1T
        z += _PIO2_2
        y0 = z + _PIO2_2T
        return -1, y0, (z - y0) + _PIO2_2T
    if ix > 0x413921FB:
        raise ValueError("fdlibm_cos port covers |x| <= 2^19 pi/2 only, got %r" % x)
    t = abs(x)
    n = int(t * _INVPIO2 + 0.5)
    fn = float(n)
    r = t - fn * _PIO2_1
    w = fn * _PIO2_1T
    if n < 32 and ix != _NPIO2_HW[n - 1]:
        y0 = r - w
    else:
        j = ix >> 20
        y0 = r - w
        i = j - ((_hi(y0) >> 20) & 0x7FF)
        if i > 16:
            t = r
            w = fn * _PIO2_2
            r = t - w
            w = fn * _PIO2_2T - ((t - r) - w)
            y0 = r - w
            i = j - ((_hi(y0) >> 20) & 0x7FF)
            if i > 49:
                t = r
                w = fn * _PIO2_3
                r = t - w
                w = fn * _PIO2_3T - ((t - r) - w)
                y0 = r - w
    y1 = (r - y0) - w
    if hx < 0:
        return -n, -y0, -y1
    return n, y0, y1


def fdlibm_cos(x):
    """cos of fdlibm 5.3 (s_cos.c), for |x| <= 2^19 pi/2."""
    ix = _hi(x) & 0x7FFFFFFF
    if ix <= 0x3FE921FB:
        return _kernel_cos(x, 0.0)
    if ix >= 0x7FF00000:
        return x - x
    n, y0, y1 = _rem_pio2(x)
    q = n & 3
    if q == 0:
        return _kernel_cos(y0, y1)
    if q == 1:
        return -_kernel_sin(y0, y1, 1)
    if q == 2:
        return -_kernel_cos(y0, y1)
    return _kernel_sin(y0, y1, 1)


# ---------------------------------------------------------------------------------------------
# RowNoise

class RowNoise:
    """org.mipflow.sampling.RowNoise: the noise stream of one row, from (seed, id) only."""

    def __init__(self, seed, row_id):
        seed &= MASK64  # a Java long, two's complement
        h = 0xCBF29CE484222325 ^ seed
        for b in row_id.encode("utf-8"):
            h ^= b
            h = (h * 0x100000001B3) & MASK64
        self.state = h ^ ((seed * GOLDEN) & MASK64)

    def next_long(self):
        """The next SplitMix64 output as an unsigned 64-bit int (Java's long bits)."""
        self.state = (self.state + GOLDEN) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_gaussian(self):
        u1 = (float(self.next_long() >> 11) + 0.5) * 2.0 ** -53
        u2 = (float(self.next_long() >> 11) + 0.5) * 2.0 ** -53
        return math.sqrt(-2.0 * fdlibm_log(u1)) * fdlibm_cos(2.0 * math.pi * u2)

    def gaussians(self, count):
        return [self.next_gaussian() for _ in range(count)]


# ---------------------------------------------------------------------------------------------
# StageSchedule

class StageSchedule:
    """org.mipflow.schedule.StageSchedule (same operation order)."""

    def __init__(self, stages=3, gamma=1.0 / 3.0):
        if not 1 <= stages <= 6:
            raise ValueError("stages must be in 1..6")
        if not (0 < gamma <= 1.0 / 3.0 + 1e-12):
            raise ValueError("gamma must be in (0, 1/3]")
        self.stages = stages
        self.gamma = gamma

    def nominal_start(self, k):
        return 1.0 - float(k) / self.stages

    def end(self, k):
        return 0.0 if k == self.stages - 1 else 1.0 - float(k + 1) / self.stages

    def start(self, k):
        if k == 0:
            return 1.0
        o = self.nominal_start(k)
        r = 1.0 / (math.sqrt(1.0 + 1.0 / self.gamma) * o + (1.0 - o))
        return 1.0 - r * (1.0 - o)

    def time(self, k, u):
        return self.end(k) + u * (self.start(k) - self.end(k))

    def jump_scale(self, k):
        o = 1.0 - self.nominal_start(k)
        return 1.0 / (math.sqrt(1.0 + 1.0 / self.gamma) * (1.0 - o) + o)

    def jump_noise(self, k):
        o = 1.0 - self.nominal_start(k)
        return self.jump_scale(k) * (1.0 - o) / math.sqrt(self.gamma)

    def resolution(self, k, full):
        factor = 1 << (self.stages - 1 - k)
        if full % factor != 0:
            raise ValueError("image side %d is not divisible by %d" % (full, factor))
        return full // factor


# ---------------------------------------------------------------------------------------------
# Noise sources: exact (RowNoise, bit-identical to Java) and fast (torch.randn, for benchmarks)

def _block_coefficients(gamma, correlation=None):
    """BlockNoise's scale and beta for covariance (1 - c) I + c J, c = correlation (default -gamma)."""
    c = -gamma if correlation is None else correlation
    scale = math.sqrt(1.0 - c)
    beta = math.sqrt(max(0.0, (1.0 + 3.0 * c) / (1.0 - c))) - 1.0
    return scale, beta


def block_noise_exact(planes, h, w, gamma, rng, correlation=None):
    """BlockNoise.fill for one row: float32 tensor [planes, h, w]; correlation +gamma gives the
    authors' (1 - gamma) I + gamma J from the same draws."""
    if h % 2 or w % 2:
        raise ValueError("block noise needs even sides")
    scale, beta = _block_coefficients(gamma, correlation)
    out = [0.0] * (planes * h * w)
    g = rng.next_gaussian
    for p in range(planes):
        base = p * h * w
        for y in range(0, h, 2):
            for x in range(0, w, 2):
                i00 = base + y * w + x
                i10 = i00 + w
                a = g()
                b = g()
                c = g()
                d = g()
                m = beta * (a + b + c + d) / 4.0
                out[i00] = scale * (a + m)
                out[i00 + 1] = scale * (b + m)
                out[i10] = scale * (c + m)
                out[i10 + 1] = scale * (d + m)
    # float64 values rounded once to float32, like Java's (float) casts
    return torch.tensor(out, dtype=torch.float64).to(torch.float32).reshape(planes, h, w)


class ExactNoise:
    """Per-row RowNoise generators, drawn in exactly Java's order."""

    def __init__(self, seed, ids):
        self.rngs = [RowNoise(seed, i) for i in ids]

    def initial(self, n, shape):
        per = 1
        for s in shape:
            per *= s
        rows = [torch.tensor(r.gaussians(per), dtype=torch.float64).to(torch.float32) for r in self.rngs]
        return torch.stack(rows).reshape(n, *shape)

    def block(self, n, planes, h, w, gamma):
        return torch.stack([block_noise_exact(planes, h, w, gamma, r) for r in self.rngs])


class FastNoise:
    """torch.randn noise with the same block structure; for speed measurements only."""

    def __init__(self, generator=None):
        self.gen = generator

    def initial(self, n, shape):
        return torch.randn(n, *shape, generator=self.gen, dtype=torch.float32)

    def block(self, n, planes, h, w, gamma):
        scale, beta = _block_coefficients(gamma)
        g = torch.randn(n, planes, h // 2, w // 2, 4, generator=self.gen, dtype=torch.float64)
        m = beta * g.sum(dim=-1, keepdim=True) / 4.0
        v = (scale * (g + m)).to(torch.float32)  # [..., (a, b, c, d)] = [y0x0, y0x1, y1x0, y1x1]
        v = v.reshape(n, planes, h // 2, w // 2, 2, 2).permute(0, 1, 2, 4, 3, 5)
        return v.reshape(n, planes, h, w)


# ---------------------------------------------------------------------------------------------
# Sampler

def nearest_up2(x):
    """Resample.nearestUp2 on [..., h, w]."""
    return x.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)


class FlowScheduler:
    """org.mipflow.schedule.FlowScheduler: the grid of a stage, the network time of each step, the
    span dt/du, and the Euler step, for stage types 0..K-1 (pyramid) and K (full-resolution flow)."""

    def __init__(self, schedule):
        self.schedule = schedule

    def full_flow(self):
        return self.schedule.stages

    def is_pyramid(self, stage_type):
        if stage_type < 0 or stage_type > self.full_flow():
            raise ValueError("stage type out of range")
        return stage_type < self.full_flow()

    def time(self, stage_type, u):
        return self.schedule.time(stage_type, u) if self.is_pyramid(stage_type) else u

    def span(self, stage_type):
        s = self.schedule
        return s.start(stage_type) - s.end(stage_type) if self.is_pyramid(stage_type) else 1.0

    def grid(self, stage_type, steps):
        """(u_i, t_i, du_i) of a uniform grid: u_i = 1 - i * (1/N) in double, steps of 1/N."""
        du = 1.0 / steps
        return [(1.0 - i * du, self.time(stage_type, 1.0 - i * du), du) for i in range(steps)]

    @staticmethod
    def step(x, v, du):
        # x[j] -= (float) (du * v[j]): the product in double, rounded, then a float subtraction
        return x - (du * v.to(torch.float64)).to(torch.float32)


class TorchScriptVelocity:
    """A VelocityModel over TorchScript modules with the contract
        forward(x [N,3,H,W] f32, t [N] f32, z [N,C,h,w] f32) -> [N,3,H,W] f32, the velocity dx/dt.

    t is the global flow time of the step (the sampler's double rounded to float32), the same for
    every row. The Java Sampler integrates in the local time u of a stage (x <- x - du * v, the
    contract of VelocityModel.velocity: dx/du), so the model's dx/dt is scaled by
    dt/du = start(k) - end(k) in pyramid stage k, in double and rounded to float32, as a Java
    adapter would write (float) (span * v[j]); in the full-resolution flow t = u and v is used
    as it is. velocity="du" instead passes the model's output through unchanged everywhere (for a
    model that predicts the stage-local velocity itself)."""

    def __init__(self, teacher, student=None, schedule=None, velocity="dt"):
        if velocity not in ("dt", "du"):
            raise ValueError("velocity must be dt or du")
        self.teacher = teacher
        self.student = student
        self.schedule = schedule
        self.convention = velocity

    def span(self, stage_type):
        s = self.schedule
        if self.convention == "du" or s is None or stage_type >= s.stages:
            return None
        return FlowScheduler(s).span(stage_type)

    def __call__(self, x, z, t, stage_type, student):
        m = self.student if student else self.teacher
        if m is None:
            raise ValueError("mode onestep needs a student")
        tt = torch.full((x.shape[0],), t, dtype=torch.float64).to(torch.float32)
        v = m(x, tt, z)
        span = self.span(stage_type)
        if span is None:
            return v
        return (span * v.to(torch.float64)).to(torch.float32)


class Sampler:
    """org.mipflow.sampling.Sampler on torch tensors (NCHW float32).

    velocity(x, z, t, stage_type, student) -> v plays VelocityModel.velocity: stage_type is the
    pyramid stage 0..K-1, or K for the full-resolution flow, and v is dx/du of the stage."""

    def __init__(self, velocity, schedule, mode, full_steps=50, stage_steps=None, downsample=8):
        if mode not in ("full", "multiscale", "onestep"):
            raise ValueError("mode must be full, multiscale or onestep")
        self.velocity = velocity
        self.schedule = schedule
        self.mode = mode
        self.full_steps = full_steps
        self.stage_steps = list(stage_steps) if stage_steps is not None else [10] * schedule.stages
        if mode == "multiscale" and len(self.stage_steps) != schedule.stages:
            raise ValueError("one step count per stage needed")
        self.downsample = downsample

    def forward_passes(self):
        if self.mode == "full":
            return self.full_steps
        if self.mode == "onestep":
            return self.schedule.stages
        return sum(self.stage_steps)

    def decode(self, z, noise):
        """z [n,C,zh,zw] float32 -> images [n,3,zh*f,zw*f] float32 (not clamped)."""
        n, _, zh, zw = z.shape
        h = zh * self.downsample
        w = zw * self.downsample
        sch = FlowScheduler(self.schedule)
        if self.mode == "full":
            x = noise.initial(n, (3, h, w))
            return self._integrate(x, z, sch, sch.full_flow(), self.full_steps, False)
        steps = self.stage_steps if self.mode == "multiscale" else [1] * self.schedule.stages
        student = self.mode == "onestep"
        s = self.schedule
        sh = s.resolution(0, h)
        sw = s.resolution(0, w)
        x = noise.initial(n, (3, sh, sw))
        for stage in range(s.stages):
            if stage > 0:
                x = self._jump(x, sh, sw, stage, noise)
                sh *= 2
                sw *= 2
            x = self._integrate(x, z, sch, stage, steps[stage], student)
        return x

    def _jump(self, x, h, w, next_stage, noise):
        s = self.schedule
        a = s.jump_scale(next_stage)
        b = s.jump_noise(next_stage)
        up = nearest_up2(x)
        nz = noise.block(x.shape[0], 3, 2 * h, 2 * w, s.gamma)
        # (float) (a * up + b * noise), in double
        return (a * up.to(torch.float64) + b * nz.to(torch.float64)).to(torch.float32)

    def _integrate(self, x, z, sch, stage_type, steps, student):
        for _u, t, du in sch.grid(stage_type, steps):
            x = sch.step(x, self.velocity(x, z, t, stage_type, student), du)
        return x
