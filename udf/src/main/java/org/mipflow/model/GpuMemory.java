package org.mipflow.model;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * A GPU's total memory, asked of CUDA once per device and JVM (an executor): every task of the
 * executor plans its batches from the same figure without a driver call per partition.
 */
public final class GpuMemory {
    /** The executors' own: CUDA's figure for each device. */
    public static final GpuMemory CUDA = new GpuMemory(d -> CudaUtils.getGpuMemory(d).getMax());

    private final ToLongFunction<Device> query;
    private final Map<String, Long> known = new ConcurrentHashMap<>();

    /** @param query asked once per device: its total memory in bytes */
    public GpuMemory(ToLongFunction<Device> query) {
        this.query = query;
    }

    public long bytes(Device gpu) {
        return known.computeIfAbsent(gpu.toString(), k -> query.applyAsLong(gpu));
    }
}
