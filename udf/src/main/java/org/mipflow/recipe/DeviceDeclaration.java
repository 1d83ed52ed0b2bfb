package org.mipflow.recipe;

import java.io.Serializable;
import org.mipflow.sampling.Batching;

/**
 * What one executor declares about the device its decode tasks run on: all a recipe's "auto"
 * values are resolved from ({@link Recipe#resolve}).
 *
 * @param executor the executor's id ("driver" in local mode), for messages
 * @param gpu whether its tasks decode on a GPU
 * @param nativeBf16 whether that device computes bfloat16 natively (an emulated bf16 gives other bytes)
 * @param evidence why, in words ("CPU has avx512_bf16", "GPU compute capability 86")
 * @param memoryBytes the GPU's memory (0 on a CPU)
 * @param tasksSharing concurrent tasks on one GPU (1 on a CPU)
 */
public record DeviceDeclaration(String executor, boolean gpu, boolean nativeBf16, String evidence, long memoryBytes,
        int tasksSharing) implements Serializable {

    /** The device as {@link Batching} sees it. */
    public Batching.Device batchingDevice() {
        return gpu ? Batching.Device.gpu(memoryBytes, tasksSharing) : Batching.Device.CPU;
    }

    /** "executor 1: cpu, no native bf16 (CPU has neither ...)", for logs and summary.json. */
    public String describe() {
        return "executor " + executor + ": " + (gpu ? "gpu " + (memoryBytes >> 20) + " MiB shared by " + tasksSharing
                + " task(s)" : "cpu") + ", " + (nativeBf16 ? "native bf16" : "no native bf16") + " (" + evidence + ")";
    }
}
