"""Measures a TorchScript decoder's activation memory per network row and writes it into model.json.

    scripts/torch/python26 scripts/torch/row_memory.py --model DIR [--size S]

Loads the model directory's teacher (the full-resolution file of a per-stage export), and runs one
forward pass under PyTorch's profiler with profile_memory=True at the full resolution (a token
decoder's imageSize; --size, default 256, for a grid decoder, which takes any size) with 1 and 2
rows, and at guided width (each image with its unconditional twin: 2 and 4 rows). The peak is
PyTorch's own accounting: the allocator's "[memory]" events in the profiler's trace carry "Total
Allocated" after every allocation and free on the CPU (on CUDA the same events come from the
caching allocator), so the peak is the largest allocated total during the call, relative to its
start (the inputs, allocated before, are not in it). Per row: the larger of the two slopes,
peak(2) - peak(1) and (peak(4) - peak(2)) / 2; what a call of one row needs beyond that is
fixedBytes. Writes
    "memory": {"bytesPerRow": ..., "fixedBytes": ..., "height": S, "width": S,
               "peaks": {"1": ..., "2": ..., "4": ...}, "measuredWith": "torch X profiler (CPU allocator)"}
into model.json, the rest of the file as it was. Mipflow's Batching divides a GPU's memory budget by
bytesPerRow (scaled to the image: README, "Precision, layout and batching").

torch 1.13 (bookworm's, scripts/torch/python) records no allocator events in its traces on this
build: the script then says so and exits 2; run it with scripts/torch/python26 (trixie's 2.6). The
export scripts call measure_into() and carry on without the figure where it cannot be had.
"""
import argparse
import json
import os
import sys
import tempfile

import torch

GRID_SIZE = 256


class NoAllocatorEvents(RuntimeError):
    pass


def peak_bytes(fn, inputs):
    """The peak of PyTorch's allocated total during fn(*inputs), relative to its start."""
    with torch.inference_mode():
        fn(*inputs)  # warm-up: TorchScript's profiling runs and one-time buffers are not a row's memory
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
            fn(*inputs)
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        prof.export_chrome_trace(path)
        with open(path) as f:
            trace = json.load(f)
    finally:
        os.unlink(path)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    totals = [e["args"]["Total Allocated"] for e in events
              if e.get("name") == "[memory]" and "Total Allocated" in e.get("args", {})]
    if not totals:
        raise NoAllocatorEvents("torch %s records no allocator events in its profiler trace; measure with "
                                "scripts/torch/python26 (torch 2.6)" % torch.__version__)
    return max(0, max(totals))


def inputs_for(manifest, n, side, gen):
    x = torch.randn(n, 3, side, side, generator=gen)
    t = torch.full((n,), 0.5)
    if manifest.get("latent", {}).get("kind") == "tokens":
        lat = manifest["latent"]
        return x, t, torch.randn(n, lat["tokens"], lat["dim"], generator=gen)
    f = manifest["downsample"]
    return x, t, torch.randn(n, manifest["latentChannels"], side // f, side // f, generator=gen)


def measure(model_dir, size=GRID_SIZE):
    with open(os.path.join(model_dir, "model.json")) as f:
        manifest = json.load(f)
    teacher = manifest["teacher"]
    if isinstance(teacher, list):
        teacher = teacher[-1]  # per-stage exports list the coarsest first: the last is full resolution
    # The TensorExpr fuser compiles fused kernels with LLVM on a call's second run (trixie's torch 2.6
    # links LLVM 17): on the token fixture that compile did not finish in minutes here. Unfused, each
    # intermediate is its own allocation, so the peak is if anything higher: on the safe side.
    # Restored after: an export script measures midway and its later decodes stay as they were.
    fuser = torch._C._jit_texpr_fuser_enabled()
    torch._C._jit_set_texpr_fuser_enabled(False)
    try:
        fn = torch.jit.load(os.path.join(model_dir, teacher)).eval()
        side = manifest["imageSize"] if manifest.get("latent", {}).get("kind") == "tokens" else size
        gen = torch.Generator().manual_seed(0)
        peaks = {n: peak_bytes(fn, inputs_for(manifest, n, side, gen)) for n in (1, 2, 4)}
    finally:
        torch._C._jit_set_texpr_fuser_enabled(fuser)
    per_row = max(peaks[2] - peaks[1], (peaks[4] - peaks[2]) // 2, 1)
    return {
        "bytesPerRow": int(per_row),
        "fixedBytes": int(max(0, peaks[1] - per_row)),
        "height": side,
        "width": side,
        "peaks": {str(n): int(p) for n, p in peaks.items()},
        "measuredWith": "torch %s profiler (CPU allocator)" % torch.__version__,
    }


def write(model_dir, memory):
    path = os.path.join(model_dir, "model.json")
    with open(path) as f:
        manifest = json.load(f)
    manifest["memory"] = memory
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def measure_into(model_dir, size=GRID_SIZE):
    """For the export scripts: measure and write, or say why not and go on (the figure is optional)."""
    try:
        memory = measure(model_dir, size)
    except NoAllocatorEvents as e:
        print("note: model.json gets no memory figure: %s" % e)
        return None
    write(model_dir, memory)
    print("memory per row: %.1f MiB at %dx%d (fixed %.1f MiB)" % (memory["bytesPerRow"] / 2**20, memory["height"],
                                                                  memory["width"], memory["fixedBytes"] / 2**20))
    return memory


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="TorchScript model directory")
    ap.add_argument("--size", type=int, default=GRID_SIZE, help="image side for a grid decoder (default 256)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    try:
        memory = measure(args.model, args.size)
    except NoAllocatorEvents as e:
        print("row_memory: %s" % e, file=sys.stderr)
        sys.exit(2)
    write(args.model, memory)
    print(json.dumps(memory))


if __name__ == "__main__":
    main()
