#!/usr/bin/python3
"""Reference values for PsnrTest/SsimTest, from an independent implementation.

Run with Debian's python3 and python3-skimage (0.19) + python3-pil:
    /usr/bin/python3 make_reference.py
It writes pairs of 8-bit RGB test images (a smooth image and distorted versions: noise, blur,
shift, colour change) as PNG and reference.json with scikit-image's
peak_signal_noise_ratio(data_range=255) and
structural_similarity(channel_axis=2, gaussian_weights=True, sigma=1.5,
                      use_sample_covariance=False, data_range=255).
"""
import json

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

rng = np.random.default_rng(7)
h, w = 40, 52
yy, xx = np.mgrid[0:h, 0:w]
base = np.stack([
    128 + 90 * np.sin(xx / 7.0) * np.cos(yy / 5.0),
    100 + 0.003 * (xx * yy) ** 1.5,
    60 + 120 * ((xx // 8 + yy // 8) % 2),
], axis=2)
base = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)

variants = {
    "noise": np.clip(base + rng.normal(0, 18, base.shape), 0, 255),
    "blur": gaussian_filter(base.astype(float), sigma=(1.2, 1.2, 0)),
    "shift": np.roll(base, 1, axis=1).astype(float),
    "tint": np.clip(base * np.array([1.1, 0.9, 1.0]) + 5, 0, 255),
}
Image.fromarray(base).save("base.png")
ref = {}
for name, img in variants.items():
    img = np.round(img).astype(np.uint8)
    Image.fromarray(img).save(name + ".png")
    ref[name] = {
        "psnr": float(peak_signal_noise_ratio(base, img, data_range=255)),
        "ssim": float(structural_similarity(base, img, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                            use_sample_covariance=False, data_range=255)),
    }
with open("reference.json", "w") as f:
    json.dump(ref, f, indent=2)
print(json.dumps(ref, indent=2))
