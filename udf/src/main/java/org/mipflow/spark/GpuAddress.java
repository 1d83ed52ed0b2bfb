package org.mipflow.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Turns a GPU address as Spark hands it to a task (whatever the discovery script printed) into the
 * CUDA device ordinal libtorch addresses in this process. Discovery scripts print indices
 * ({@code "0"}, nvidia-smi's {@code index}), GPU UUIDs ({@code "GPU-8f3c..."}), MIG device UUIDs
 * ({@code "MIG-4a1b..."}, or the older {@code "MIG-GPU-8f3c.../1/0"}) or MIG names of the form
 * {@code "GPU:INSTANCE"} ({@code "0:1"}). CUDA numbers the devices a process sees from 0 in the order
 * of {@code CUDA_VISIBLE_DEVICES} when that is set, so an address listed there is its position
 * there; an index not listed (no such variable, or a container that sees only its own GPUs) is
 * itself; a UUID or MIG name not listed is the one device when the process sees one, and refused
 * otherwise, since no CUDA call maps it to an ordinal. Pure: no CUDA, no Spark.
 */
public final class GpuAddress {
    private static final Pattern INDEX = Pattern.compile("\\d+");
    private static final Pattern UUID = Pattern.compile("(GPU|MIG)-[0-9A-Za-z/-]+");
    private static final Pattern MIG_NAME = Pattern.compile("\\d+:\\d+");

    private GpuAddress() {}

    /**
     * @param address the address Spark assigned to the task
     * @param cudaVisibleDevices the process's CUDA_VISIBLE_DEVICES, or null
     * @param cudaDevices the CUDA devices this process sees
     * @return the CUDA ordinal
     * @throws IllegalArgumentException naming the address and why it cannot be used
     */
    public static int ordinal(String address, String cudaVisibleDevices, int cudaDevices) {
        String a = address == null ? "" : address.trim();
        if (!INDEX.matcher(a).matches() && !UUID.matcher(a).matches() && !MIG_NAME.matcher(a).matches()) {
            throw new IllegalArgumentException("GPU address '" + address + "' from Spark's discovery script is none of "
                    + "an index (0), a GPU or MIG UUID (GPU-..., MIG-...) or a MIG name (0:1)");
        }
        int ordinal = visible(cudaVisibleDevices).indexOf(a);
        if (ordinal < 0 && INDEX.matcher(a).matches()) {
            ordinal = a.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(a);
        }
        if (ordinal < 0) {
            if (cudaDevices == 1) {
                return 0;
            }
            throw new IllegalArgumentException("GPU address " + a + " is not in CUDA_VISIBLE_DEVICES ("
                    + (cudaVisibleDevices == null ? "unset" : cudaVisibleDevices) + ") and this process sees "
                    + cudaDevices + " CUDA devices, so it names none of them: list the executor's GPUs in "
                    + "CUDA_VISIBLE_DEVICES or have the discovery script print indices");
        }
        if (ordinal >= cudaDevices) {
            throw new IllegalArgumentException("GPU address " + a + " is CUDA device " + ordinal + ", but this process "
                    + "sees " + cudaDevices + " CUDA device(s)");
        }
        return ordinal;
    }

    private static List<String> visible(String cudaVisibleDevices) {
        List<String> out = new ArrayList<>();
        if (cudaVisibleDevices != null) {
            for (String s : cudaVisibleDevices.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
        }
        return out;
    }
}
