package org.mipflow.model;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /** What /proc/cpuinfo says of the first CPU: its name and the flags that decide bf16. */
    public record Cpu(String modelName, String family, String model, String flags) {
        static final Cpu UNKNOWN = new Cpu("unknown", "?", "?", "");

        static Cpu parse(List<String> cpuinfo) {
            String name = null;
            String family = null;
            String model = null;
            String flags = null;
            for (String line : cpuinfo) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    if (flags != null) {
                        break; // end of the first processor's block
                    }
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                switch (key) {
                    case "model name" -> name = name == null ? value : name;
                    case "cpu family" -> family = family == null ? value : family;
                    case "model" -> model = model == null ? value : model;
                    case "flags" -> flags = flags == null ? value : flags;
                    default -> { }
                }
            }
            return new Cpu(name == null ? "unknown" : name, family == null ? "?" : family,
                    model == null ? "?" : model, flags == null ? "" : flags);
        }

        /** Whether the CPU lists {@code flag}. */
        public boolean has(String flag) {
            for (String f : WORDS.split(flags)) {
                if (f.equals(flag)) {
                    return true;
                }
            }
            return false;
        }

        /** "AMD EPYC (family 25, model 17): avx512_bf16 yes, amx_bf16 no", for logs. */
        public String describe() {
            return modelName + " (family " + family + ", model " + model + "): avx512_bf16 "
                    + (has("avx512_bf16") ? "yes" : "no") + ", amx_bf16 " + (has("amx_bf16") ? "yes" : "no");
        }
    }

    public static Verdict of(Device device) {
        if (device.isGpu()) {
            String cc = CudaUtils.getComputeCapability(device.getDeviceId());
            return new Verdict(gpuSupports(cc), "GPU compute capability " + cc);
        }
        return cpu(thisCpu().flags());
    }

    /** From the "flags" line of /proc/cpuinfo. */
    public static Verdict cpu(String flags) {
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

    /** This machine's CPU; {@link Cpu#UNKNOWN} where there is no /proc/cpuinfo (no bf16 then). */
    public static Cpu thisCpu() {
        try {
            return Cpu.parse(Files.readAllLines(Path.of("/proc/cpuinfo")));
        } catch (IOException | RuntimeException e) {
            return Cpu.UNKNOWN;
        }
    }
}
