#!/usr/bin/python3
"""Reference values for MsSsimReferenceTest and HaarPsiReferenceTest (MS-SSIM and HaarPSI).

Run with Debian's python3 (numpy 1.24, scipy 1.10, scikit-image 0.19, PIL), from this directory:
    /usr/bin/python3 make_ms_ssim_haarpsi_reference.py
It writes ms_ssim_haarpsi_reference.json next to itself. Nothing is downloaded; the values are
deterministic (integer-only image generator, float64 metrics).

How the values are made
-----------------------
Both metrics are written here from the papers and from the structure of the authors' public
reference code, in numpy/scipy, on whole 2-D arrays; they are not a translation of the Java
classes (which use separable running filters and integral images instead of 2-D convolutions).

MS-SSIM (Wang, Simoncelli & Bovik 2003, "Multi-scale structural similarity for image quality
assessment"), ms_ssim() below:
  * 11x11 Gaussian window, sigma 1.5, normalised to sum 1 (np.outer of the 1-D window), applied
    with scipy.signal.correlate2d(mode="valid"), i.e. no padding: the statistics exist only where
    the whole window fits (as in Wang's MATLAB ssim/msssim, tf.image.ssim_multiscale,
    pytorch_msssim and piq). At scale 1 this is exactly scikit-image's structural_similarity
    with gaussian_weights=True, use_sample_covariance=False (which pads, then crops 5 pixels),
    and the script asserts that equality.
  * K1 = 0.01, K2 = 0.03, L = 255, population (biased) variances E[x^2] - E[x]^2.
  * 5 scales, weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) used as published (they sum to
    1.0001; pytorch_msssim, piq and TensorFlow use these defaults unnormalised). Scales 1-4 contribute the mean contrast-structure map
    cs = (2 s_xy + C2) / (s_x^2 + s_y^2 + C2); scale 5 contributes the mean of l * cs.
  * Negative per-scale means are clamped to 0 before the power (relu, as in pytorch_msssim,
    piq and tf.image.ssim_multiscale; Wang's MATLAB code does not clamp and would go complex).
  * Between scales: 2x2 average pooling; an odd row/column count is first made even by
    repeating the last row/column (MATLAB imfilter(..., ones(2)/4, 'symmetric') then
    (1:2:end), which is also what tf.image.ssim_multiscale does), so a side n becomes ceil(n/2).
  * RGB: MS-SSIM of each channel (product over scales), then the mean of the 3 channels
    (the pytorch_msssim / piq / TensorFlow convention).
  * Fewer scales (for images whose 5th scale would be smaller than the 11x11 window, i.e. with
    a side below 161 px): the first S weights divided by their sum; "ms_ssim_by_scales" holds
    every S from 1 to the largest that fits. S = 1 is plain SSIM with each channel's mean
    clamped at 0 (the unclamped scale-1 SSIM is checked against skimage for every pair).
HaarPSI (Reisenhofer, Bosse, Kutyniok & Wiegand 2018, "A Haar wavelet-based perceptual
similarity index for image quality assessment"), haar_psi() below, following the authors'
HaarPSI.m / haarPsi.py (github.com/rgcda/haarpsi) step by step:
  * YIQ: Y = .299 R + .587 G + .114 B, I = .596 R - .274 G - .322 B, Q = .211 R - .523 G + .312 B
    (input in [0, 255]).
  * Preprocessing: each of Y, I, Q is filtered with ones(2,2)/4 and every second row/column
    (starting with the first) kept.
  * All filtering is MATLAB conv2(X, K, 'same') with zero padding; for the even-sized kernels
    used here MATLAB's 'same' window is offset by floor(k/2) into the full convolution (it
    reaches one sample further forward than scipy's mode="same"), reproduced below by slicing
    scipy.signal.convolve2d(mode="full").
  * Haar filters at scales j = 1..3: 2^-j * ones(2^j, 2^j) with the top half negated (vertical
    detail) and its transpose (horizontal detail).
  * Local similarity per orientation: mean over scales 1 and 2 of (2|a||b| + C)/(a^2 + b^2 + C),
    C = 30; weight per orientation: max(|a3|, |b3|) of the scale-3 coefficients.
  * Colour: |I| and |Q| after another ones(2,2)/4 filter; chroma similarity = mean of the I and
    Q similarities (same C), with weight (w_vertical + w_horizontal) / 2. The grey variant
    ("haarpsi_grey_g", computed on the green plane alone) takes the plane as Y and has no
    chroma term.
  * Score: logit_alpha(sum(sigmoid_alpha(S) * W) / sum(W))^2 with alpha = 4.2, where
    sigmoid_alpha(x) = 1 / (1 + exp(-alpha x)) and logit_alpha its inverse.
  * The script also checks that, if the authors' haarPsi.py is importable (set HAARPSI_PY to
    its directory), it gives the same values; its import is optional and it is not part of this
    project.

Known differences to other libraries (none of which is installed here; read from their sources):
  * MS-SSIM, odd sides only (sides divisible by 16 give the same pooling everywhere):
    pytorch_msssim pools odd sides with one zero row/column on each side
    (avg_pool2d(padding=s % 2), zeros counted), piq repeats the first row and column (replicate
    padding at top/left, applied to both sides as soon as either is odd); here the last
    row/column is repeated, as in Wang's MATLAB and TensorFlow. Both compute in the tensors'
    dtype (usually float32) and refuse images with a side below 161 px instead of using fewer
    scales.
  * HaarPSI: piq.haarpsi follows the same MATLAB padding (zeros at the bottom/right) but adds
    float32 eps to the numerator and denominator of the weighted mean and usually runs in
    float32, so expect agreement only to float32 precision (not measured here). It takes
    [0, data_range] inputs and rescales them to [0, 255].
  * The HaarPSI values here agree with the authors' haarPsi.py to 1.4e-14 (optional check
    below, run when the values were made).

Test images
-----------
Besides the 40x52 PNG pairs of make_reference.py (base.png vs noise/blur/shift/tint.png), the
images are generated from integers only, so Java regenerates identical pixels (the JSON stores
the CRC-32 of every generated image, planar R,G,B bytes in row-major order, as a check):
  mix(seed, i) = splitmix64 finaliser of (seed << 32) + i + 1 (wrapping 64-bit arithmetic):
      z = ((seed << 32) + i + 1) * 0x9E3779B97F4A7C15
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EB
      z =  z ^ (z >>> 31)
  i = p*h*w + r*w + c is the planar sample index (plane p, row r, column c).
  base (integer division, every value stays in [0, 255]):
      R = 20 + 180*c // (w-1) + 40 * (((8*c)//w + (8*r)//h) % 2)             gradient + 8x8 checkers
      G = 20 + 180*r // (h-1) + 40 * ((((2r-h)^2 + (2c-w)^2) * 24 // h^2) % 2) gradient + rings
      B = 60 + 120*(r+c) // (h+w-2) + (mix(0, i) & 31) - 16                   gradient + grain
  noise(seed, sigma): t = sum of the 4 low bytes of mix(seed, i) - 510 (mean 0, sd 147.8);
      value = clamp(base + floor(t * sigma / 148), 0, 255)
  variants of base (clamped to [0, 255]):
      identical  base itself
      noise5     noise(seed 1, sigma 5)
      noise20    noise(seed 2, sigma 20)
      blur       5x5 binomial [1 4 6 4 1]^T [1 4 6 4 1], replicate borders,
                 (integer sum + 128) // 256
      shift      out[r][c] = base[max(r-1, 0)][max(c-3, 0)]  (down 1, right 3, replicate)
      tint       R' = 11*R // 10 + 5, G' = 9*G // 10, B' = B
      invert_b   R' = R, G' = G, B' = 255 - B (the blue contrast-structure means are negative,
                 so that channel's MS-SSIM is clamped to 0 and the mean of the 3 is 2/3)
  sizes (h x w): 64x64, 256x256 and 171x203 (odd, not square).
"""
import json
import os
import sys
import zlib

import numpy as np
from PIL import Image
from scipy.signal import convolve2d, correlate2d
from skimage.metrics import structural_similarity

M64 = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------------------------------------
# test images
# ----------------------------------------------------------------------------------------------


def mix(seed, n):
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) << np.uint64(32)) + np.arange(n, dtype=np.uint64) + np.uint64(1)
        z = z * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def base_image(h, w):
    """Planar int64 [3, h, w]."""
    r, c = np.mgrid[0:h, 0:w].astype(np.int64)
    red = 20 + 180 * c // (w - 1) + 40 * (((8 * c) // w + (8 * r) // h) % 2)
    green = 20 + 180 * r // (h - 1) + 40 * ((((2 * r - h) ** 2 + (2 * c - w) ** 2) * 24 // (h * h)) % 2)
    grain = (mix(0, 3 * h * w) & np.uint64(31)).astype(np.int64).reshape(3, h, w)[2] - 16
    blue = 60 + 120 * (r + c) // (h + w - 2) + grain
    out = np.stack([red, green, blue])
    assert out.min() >= 0 and out.max() <= 255
    return out


def noisy(base, seed, sigma):
    z = mix(seed, base.size)
    t = sum(((z >> np.uint64(8 * k)) & np.uint64(255)).astype(np.int64) for k in range(4)) - 510
    return np.clip(base + (t.reshape(base.shape) * sigma) // 148, 0, 255)


def blurred(base):
    k = np.array([1, 4, 6, 4, 1], dtype=np.int64)
    out = np.empty_like(base)
    for p in range(3):
        padded = np.pad(base[p], 2, mode="edge")
        tmp = sum(k[j] * padded[:, j:j + base.shape[2]] for j in range(5))
        full = sum(k[j] * tmp[j:j + base.shape[1], :] for j in range(5))
        out[p] = (full + 128) // 256
    return out


def shifted(base):
    h, w = base.shape[1:]
    rows = np.maximum(np.arange(h) - 1, 0)
    cols = np.maximum(np.arange(w) - 3, 0)
    return base[:, rows][:, :, cols]


def tinted(base):
    out = base.copy()
    out[0] = np.clip(11 * base[0] // 10 + 5, 0, 255)
    out[1] = 9 * base[1] // 10
    return out


def inverted_blue(base):
    out = base.copy()
    out[2] = 255 - base[2]
    return out


def variants(base):
    return {
        "identical": base.copy(),
        "noise5": noisy(base, 1, 5),
        "noise20": noisy(base, 2, 20),
        "blur": blurred(base),
        "shift": shifted(base),
        "tint": tinted(base),
        "invert_b": inverted_blue(base),
    }


def crc(planar):
    return zlib.crc32(planar.astype(np.uint8).tobytes()) & 0xFFFFFFFF


# ----------------------------------------------------------------------------------------------
# MS-SSIM
# ----------------------------------------------------------------------------------------------

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])
K1, K2, L = 0.01, 0.03, 255.0
WIN = 11


def gaussian_window(size=WIN, sigma=1.5):
    ax = np.arange(size) - size // 2
    g = np.exp(-(ax ** 2) / (2.0 * sigma ** 2))
    g2 = np.outer(g, g)
    return g2 / g2.sum()


def ssim_and_cs(x, y):
    """Means of the SSIM map and of the contrast-structure map, 'valid' windows only."""
    win = gaussian_window()
    c1 = (K1 * L) ** 2
    c2 = (K2 * L) ** 2
    mu_x = correlate2d(x, win, mode="valid")
    mu_y = correlate2d(y, win, mode="valid")
    var_x = correlate2d(x * x, win, mode="valid") - mu_x ** 2
    var_y = correlate2d(y * y, win, mode="valid") - mu_y ** 2
    cov = correlate2d(x * y, win, mode="valid") - mu_x * mu_y
    cs_map = (2 * cov + c2) / (var_x + var_y + c2)
    lum_map = (2 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1)
    return float(np.mean(lum_map * cs_map)), float(np.mean(cs_map))


def halve(img):
    """2x2 average pooling; an odd side is first extended by repeating its last row/column."""
    h, w = img.shape
    img = np.pad(img, ((0, h % 2), (0, w % 2)), mode="symmetric")
    return img.reshape(img.shape[0] // 2, 2, img.shape[1] // 2, 2).mean(axis=(1, 3))


def max_scales(h, w):
    s = 0
    while s < 5 and min(h, w) >= WIN:
        s += 1
        h, w = (h + 1) // 2, (w + 1) // 2
    return s


def ms_ssim(ref, dist, scales=5):
    """ref, dist: planar float64 [channels, h, w] in [0, 255]."""
    weights = WEIGHTS if scales == 5 else WEIGHTS[:scales] / WEIGHTS[:scales].sum()
    per_channel = []
    for x, y in zip(ref, dist):
        values = []
        for s in range(scales):
            ssim_mean, cs_mean = ssim_and_cs(x, y)
            if s == scales - 1:
                values.append(max(ssim_mean, 0.0))
            else:
                values.append(max(cs_mean, 0.0))
                x, y = halve(x), halve(y)
        per_channel.append(np.prod(np.array(values) ** weights))
    return float(np.mean(per_channel))


# ----------------------------------------------------------------------------------------------
# HaarPSI
# ----------------------------------------------------------------------------------------------

C_HAAR = 30.0
ALPHA = 4.2


def conv2_same(x, k):
    """MATLAB conv2(x, k, 'same'): zero padding, window offset floor(size/2) into 'full'."""
    full = convolve2d(x, k, mode="full")
    r0, c0 = k.shape[0] // 2, k.shape[1] // 2
    return full[r0:r0 + x.shape[0], c0:c0 + x.shape[1]]


def mean2x2(x):
    return conv2_same(x, np.ones((2, 2)) / 4.0)


def haar_filter(scale):
    n = 2 ** scale
    f = np.full((n, n), 2.0 ** -scale)
    f[:n // 2, :] *= -1
    return f


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-ALPHA * x))


def logit(p):
    return np.log(p / (1.0 - p)) / ALPHA


def haar_psi(ref, dist):
    """ref, dist: planar float64 [3, h, w] RGB or [1, h, w] grey, in [0, 255]."""
    colour = ref.shape[0] == 3

    def yiq(img):
        if not colour:
            return (img[0],)
        r, g, b = img
        return (0.299 * r + 0.587 * g + 0.114 * b,
                0.596 * r - 0.274 * g - 0.322 * b,
                0.211 * r - 0.523 * g + 0.312 * b)

    # preprocessing: 2x2 mean and keep every second sample
    ref_yiq = [mean2x2(ch)[::2, ::2] for ch in yiq(ref)]
    dist_yiq = [mean2x2(ch)[::2, ::2] for ch in yiq(dist)]
    ref_y, dist_y = ref_yiq[0], dist_yiq[0]

    sims, weights = [], []
    for orient in (0, 1):  # 0: vertical detail (filter), 1: horizontal detail (transposed filter)
        coeffs = []
        for img in (ref_y, dist_y):
            coeffs.append([conv2_same(img, haar_filter(j) if orient == 0 else haar_filter(j).T)
                           for j in (1, 2, 3)])
        (a1, a2, a3), (b1, b2, b3) = coeffs
        weights.append(np.maximum(np.abs(a3), np.abs(b3)))
        local = 0.0
        for a, b in ((a1, b1), (a2, b2)):
            a, b = np.abs(a), np.abs(b)
            local = local + (2 * a * b + C_HAAR) / (a ** 2 + b ** 2 + C_HAAR)
        sims.append(local / 2)

    def chroma_sim(a, b):
        a, b = np.abs(mean2x2(a)), np.abs(mean2x2(b))
        return (2 * a * b + C_HAAR) / (a ** 2 + b ** 2 + C_HAAR)

    if colour:
        (_, ref_i, ref_q), (_, dist_i, dist_q) = ref_yiq, dist_yiq
        sims.append((chroma_sim(ref_i, dist_i) + chroma_sim(ref_q, dist_q)) / 2)
        weights.append((weights[0] + weights[1]) / 2)
    s = np.stack(sims)
    wt = np.stack(weights)
    return float(logit(np.sum(sigmoid(s) * wt) / np.sum(wt)) ** 2)


# ----------------------------------------------------------------------------------------------


def entry(ref, dist):
    h, w = ref.shape[1:]
    ref = ref.astype(np.float64)
    dist = dist.astype(np.float64)
    s_max = max_scales(h, w)
    by_scales = {str(s): ms_ssim(ref, dist, s) for s in range(1, s_max + 1)}
    # cross-check: the scale-1 statistics are plain SSIM, as scikit-image computes it (before the
    # clamp to 0, which only MS-SSIM applies)
    sk = structural_similarity(ref.transpose(1, 2, 0), dist.transpose(1, 2, 0), channel_axis=2,
                               gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                               data_range=255)
    ours = np.mean([ssim_and_cs(x, y)[0] for x, y in zip(ref, dist)])
    assert abs(sk - ours) < 1e-12, (sk, ours)
    return {
        "ms_ssim_scales": s_max,
        "ms_ssim": by_scales[str(s_max)],
        "ms_ssim_by_scales": by_scales,
        "haarpsi": haar_psi(ref, dist),
        "haarpsi_swapped": haar_psi(dist, ref),
        # grey variant of the reference (no chroma term), on the green plane alone
        "haarpsi_grey_g": haar_psi(ref[1:2], dist[1:2]),
    }


def load_png(name):
    return np.asarray(Image.open(os.path.join(HERE, name)).convert("RGB")).transpose(2, 0, 1).astype(np.int64)


def authors_haarpsi():
    """The authors' haarPsi.py, only if HAARPSI_PY points at a directory holding it."""
    path = os.environ.get("HAARPSI_PY")
    if not path:
        return None
    sys.path.insert(0, path)
    import haarPsi  # noqa: E402  (optional cross-check, not part of this project)
    return haarPsi.haar_psi_numpy


def main():
    generated = []
    for h, w in ((64, 64), (256, 256), (171, 203)):
        base = base_image(h, w)
        for name, img in variants(base).items():
            generated.append({"h": h, "w": w, "reference": "base", "distorted": name,
                              "crc_reference": crc(base), "crc_distorted": crc(img),
                              **entry(base, img)})
    png = []
    base = load_png("base.png")
    for name in ("noise", "blur", "shift", "tint"):
        img = load_png(name + ".png")
        png.append({"h": base.shape[1], "w": base.shape[2], "reference": "base.png",
                    "distorted": name + ".png", **entry(base, img)})

    theirs = authors_haarpsi()
    if theirs is not None:
        worst = 0.0
        for e in generated:
            base = base_image(e["h"], e["w"])
            img = variants(base)[e["distorted"]]
            v = theirs(base.transpose(1, 2, 0), img.transpose(1, 2, 0))[0]
            worst = max(worst, abs(v - e["haarpsi"]))
            v = theirs(base[1], img[1])[0]
            worst = max(worst, abs(v - e["haarpsi_grey_g"]))
        for e in png:
            v = theirs(load_png(e["reference"]).transpose(1, 2, 0), load_png(e["distorted"]).transpose(1, 2, 0))[0]
            worst = max(worst, abs(v - e["haarpsi"]))
        print("max |this - authors' haarPsi.py| =", worst, file=sys.stderr)
        assert worst < 1e-12

    out = {
        "about": "made by make_ms_ssim_haarpsi_reference.py (its docstring says how); "
                 "images are planar RGB in [0, 255]",
        "ms_ssim_weights": WEIGHTS.tolist(),
        "generated": generated,
        "png": png,
    }
    with open(os.path.join(HERE, "ms_ssim_haarpsi_reference.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for e in generated + png:
        print(f'{e["h"]:3d}x{e["w"]:<3d} {e["distorted"]:10s} ms_ssim[{e["ms_ssim_scales"]}] '
              f'{e["ms_ssim"]:.12f}  haarpsi {e["haarpsi"]:.12f}')


if __name__ == "__main__":
    main()
