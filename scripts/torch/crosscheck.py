"""Checks mipflow_sampler.py against the compiled Java classes (udf/target/classes; nothing is built).

    scripts/torch/python scripts/torch/crosscheck.py [--bulk 300000] [--no-djl]

1. noise:    RowNoise streams (several seeds and ids, and --bulk gaussians of one row) must be
             bit-identical between Java and Python.
2. analytic: org.mipflow.sampling.Sampler and the Python port, both driven by the same analytic
             velocity field (float32 arithmetic only), must give bit-identical images in modes
             full, multiscale and onestep on the fixture's latents.
3. djl:      the Java Sampler with teacher.pt / student.pt loaded by DJL's libtorch (the version
             in ~/.m2, the one the build uses) against expected.json; reports the largest
             difference (libtorch 2.x and Debian's torch 1.13 use different convolution kernels,
             so only closeness is expected there, not equal bits).
Uses `java` on PATH and the jars in ~/.m2/repository (DJL is on the class path even for 1 and 2
because java's single-file mode compiles all of CrossCheck.java).
"""
import argparse
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import mipflow_sampler as ms  # noqa: E402

M2 = os.path.expanduser(os.environ.get("MIPFLOW_M2", "~/.m2/repository"))
JARS = [  # (directory under ~/.m2, preferred version; else the newest present)
    ("ai/djl/api", "0.33.0"),
    ("ai/djl/pytorch/pytorch-engine", "0.33.0"),
    ("ai/djl/pytorch/pytorch-jni", "2.5.1-0.33.0"),
    ("ai/djl/pytorch/pytorch-native-cpu", "2.5.1"),
    ("com/google/code/gson/gson", "2.13.1"),
    ("net/java/dev/jna/jna", "5.14.0"),
    ("org/apache/commons/commons-compress", "1.27.1"),
    ("org/slf4j/slf4j-api", "2.0.17"),
]


def classpath():
    cp = [os.path.join(ROOT, "udf", "target", "classes")]
    for d, v in JARS:
        jars = sorted(j for j in glob.glob(os.path.join(M2, d, v, "*.jar")) if not j.endswith("-sources.jar"))
        if not jars:
            jars = sorted((j for j in glob.glob(os.path.join(M2, d, "*", "*.jar")) if not j.endswith("-sources.jar")),
                          key=lambda p: [int(x) if x.isdigit() else x for x in p.replace("-", ".").split(".")])
            jars = jars[-1:]
        if not jars:
            raise SystemExit("missing jar %s in %s (run the Maven build once)" % (d, M2))
        cp.extend(jars)
    return os.pathsep.join(cp)


def java(*args, env=None):
    cmd = ["nice", "java", "-Dai.djl.offline=true", "-cp", classpath(), os.path.join(HERE, "CrossCheck.java")] + list(args)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def bits64(x):
    return "%x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def bits32(x):
    return "%x" % struct.unpack("<I", struct.pack("<f", x))[0]


def check_noise(bulk):
    bad = 0
    lines = java("noise", str(bulk)).splitlines()
    for line in lines:
        p = line.split(" ")
        if p[0] == "B":
            r = ms.RowNoise(7, "bulk")
            got = [bits64(r.next_gaussian()) for _ in range(len(p) - 1)]
            nbad = sum(g != e for g, e in zip(got, p[1:]))
            print("noise: %d gaussians of (7, 'bulk'): %d differ" % (len(got), nbad))
            bad += nbad
            continue
        r = ms.RowNoise(int(p[1]), bytes.fromhex(p[2][1:]).decode("utf-8"))
        if p[0] == "L":
            got = ["%x" % r.next_long() for _ in range(len(p) - 3)]
        else:
            got = [bits64(r.next_gaussian()) for _ in range(len(p) - 3)]
        if got != p[3:]:
            bad += 1
            print("noise: MISMATCH", line, got)
    print("noise: %d stream lines compared" % (len(lines) - 1))
    r = ms.RowNoise(7, "row-a")
    print("noise: RowNoise(7, 'row-a') first gaussians:", ", ".join(repr(r.next_gaussian()) for _ in range(5)))
    return bad == 0


class AnalyticVelocity:
    """The velocity of CrossCheck.Analytic in float32 torch arithmetic."""

    def __call__(self, x, z, t, stage_type, student):
        n, _, h, w = x.shape
        zh, zw = z.shape[2], z.shape[3]
        ys = torch.arange(h) * zh // h
        xs = torch.arange(w) * zw // w
        zu = z[:, :3][:, :, ys][:, :, :, xs]
        tf = torch.tensor(t, dtype=torch.float64).to(torch.float32)
        if student:
            return x - (torch.tensor(1.0, dtype=torch.float32) - tf) * zu
        return torch.tensor(0.5, dtype=torch.float32) * x - tf * zu


def check_analytic(expected):
    n, c, zh, zw = expected["latentShape"]
    z = torch.tensor(expected["latents"], dtype=torch.float32).reshape(n, c, zh, zw)
    steps = expected["stageSteps"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(" ".join(expected["ids"]) + "\n")
        f.write("%d %d %d %d %d %d %d %d %d\n" % (n, c, zh, zw, expected["seed"], expected["fullSteps"], *steps))
        f.write(" ".join(bits32(v) for v in z.reshape(-1).tolist()) + "\n")
        path = f.name
    try:
        out = java("analytic", path).splitlines()
    finally:
        os.unlink(path)
    ok = True
    for line in out:
        p = line.split(" ")
        mode = p[0]
        sampler = ms.Sampler(AnalyticVelocity(), ms.StageSchedule(3, 1.0 / 3.0), mode,
                             full_steps=expected["fullSteps"], stage_steps=steps, downsample=8)
        img = sampler.decode(z, ms.ExactNoise(expected["seed"], expected["ids"]))
        got = [bits32(v) for v in img.reshape(-1).tolist()]
        diff = sum(g != e for g, e in zip(got, p[1:]))
        ok &= diff == 0 and len(got) == len(p) - 1
        print("analytic %-10s: %d values, %d differ from Java" % (mode, len(got), diff))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", default=os.path.join(ROOT, "udf", "src", "test", "resources", "torchscript"))
    ap.add_argument("--bulk", type=int, default=100000)
    ap.add_argument("--no-djl", action="store_true")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest |java - python| accepted in step 3")
    ap.add_argument("--djl-cache", default=os.path.join(tempfile.gettempdir(), "mipflow-crosscheck-djl"),
                    help="ENGINE_CACHE_DIR for DJL (libtorch is unpacked there once)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with open(os.path.join(args.fixture, "expected.json")) as f:
        expected = json.load(f)
    ok = check_noise(args.bulk)
    ok &= check_analytic(expected)
    if not args.no_djl:
        env = dict(os.environ, ENGINE_CACHE_DIR=args.djl_cache, OMP_NUM_THREADS="1")
        report = java("djl", args.fixture, env=env).rstrip()
        print(report)
        for line in report.splitlines():
            if "max |java - python| = " in line:
                worst = float(line.split("max |java - python| = ")[1].split(",")[0])
                if not worst <= args.tolerance:
                    print("djl: difference above --tolerance %g" % args.tolerance)
                    ok = False
    print("crosscheck:", "OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
