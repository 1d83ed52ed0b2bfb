package org.mipflow.model;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Whether a device computes in bfloat16 natively. On x86 CPUs that is AVX-512 BF16 or AMX
 * (oneDNN's bf16 convolutions need one of them; without, libtorch emulates bf16 and is slower
 * than fp32); on NVIDIA GPUs compute capability 8.0 (Ampere) or newer.
 */
public final class Bf16Support {
    private static final Set<String> CPU_FLAGS = Set.of("avx512_bf16", "amx_bf16");
    private static final Pattern WORDS = Pattern.compile("\\s+");

    private Bf16Support() {}

    /** The answer for {@code device}, with the evidence, for the load log. */
    public record Verdict(boolean supported, String reason) {}

    public static Verdict of(Device device) {
        if (device.isGpu()) {
            String cc = CudaUtils.getComputeCapability(device.getDeviceId());
            return new Verdict(gpuSupports(cc), "GPU compute capability " + cc);
        }
        return cpu(cpuFlags());
    }

    /** From the "flags" line of /proc/cpuinfo. */
    static Verdict cpu(String flags) {
        for (String f : WORDS.split(flags.trim())) {
            if (CPU_FLAGS.contains(f)) {
                return new Verdict(true, "CPU has " + f);
            }
        }
        return new Verdict(false, flags.isBlank() ? "CPU flags unknown" : "CPU has neither avx512_bf16 nor amx_bf16");
    }

    static boolean gpuSupports(String computeCapability) {
        try {
            return Integer.parseInt(computeCapability.trim()) >= 80;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return line.substring(line.indexOf(':') + 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no evidence, so no bf16 by default
        }
        return "";
    }
}
