package org.mipflow.spark;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device a decode task runs on: the GPU that Spark's resource scheduling assigned to the
 * task ({@code spark.task.resource.gpu.amount}, addresses from the discovery script) when
 * libtorch was built with CUDA (the {@code gpu} Maven profile), otherwise the CPU.
 */
public final class TaskDevice {
    private static final Logger LOG = LoggerFactory.getLogger(TaskDevice.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** What was chosen, and why, for the model-load record. */
    public record Choice(Device device, String note) {}

    private TaskDevice() {}

    public static Choice forCurrentTask() {
        String gpu = assignedGpu(TaskContext.get());
        if (gpu == null) {
            return new Choice(Device.cpu(), "cpu");
        }
        int cudaDevices = Engine.getEngine("PyTorch").getGpuCount();
        if (cudaDevices > 0) {
            int id = GpuAddress.ordinal(gpu, System.getenv("CUDA_VISIBLE_DEVICES"), cudaDevices);
            return new Choice(Device.gpu(id), "gpu " + id + (gpu.trim().equals(Integer.toString(id)) ? ""
                    : " (Spark's address " + gpu.trim() + ")"));
        }
        String why = "cpu (Spark assigned GPU " + gpu + ", but this libtorch has no CUDA; build with -Pgpu)";
        if (WARNED.compareAndSet(false, true)) {
            LOG.warn("decoding on the CPU: Spark assigned GPU {} to this task, but the libtorch on the class path "
                    + "has no CUDA (build the job jar with -Pgpu)", gpu);
        }
        return new Choice(Device.cpu(), why);
    }

    /**
     * How many concurrent tasks share one GPU: 1 / spark.task.resource.gpu.amount (a task asking
     * for 0.25 GPU shares it with three others), 1 outside Spark.
     */
    public static int tasksPerGpu() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        if (env == null) {
            return 1;
        }
        double amount = env.conf().getDouble("spark.task.resource.gpu.amount", 1.0);
        return amount <= 0 || amount >= 1 ? 1 : (int) Math.floor(1 / amount + 1e-9);
    }

    /** The first GPU address Spark gave this task, or null (no task context, no GPU resource). */
    static String assignedGpu(TaskContext tc) {
        if (tc == null) {
            return null;
        }
        ResourceInformation r = tc.resources().get("gpu").getOrElse(() -> null);
        return r == null || r.addresses().length == 0 ? null : r.addresses()[0];
    }
}
