package org.mipflow.spark;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.LatentEncoding;
import org.mipflow.model.Bf16Support;
import org.mipflow.model.DecoderFacts;
import org.mipflow.recipe.Recipe;
import org.mipflow.recipe.DeviceDeclaration;

/**
 * What the executors declare about their devices, asked once per run on the driver, so that a
 * run's "auto" values are resolved once ({@link org.mipflow.recipe.Recipe#resolve}) and never per
 * executor. In local mode the tasks run in the driver's JVM, which declares for them; on a
 * cluster one probe job of one task per task slot asks the executors that run them.
 *
 * <p>Test seam (documented in the README): the system property {@code mipflow.declare.cpu-flags},
 * or {@code mipflow.declare.cpu-flags.<executor id>} for one executor, replaces the flags line of
 * /proc/cpuinfo in what a JVM declares and checks, so that a local-cluster test can give its two
 * executors different CPUs.
 */
public final class ExecutorDevices {
    static final String CPU_FLAGS = "mipflow.declare.cpu-flags";

    private ExecutorDevices() {}

    /** The declarations of the executors (distinct by executor id). */
    public static List<DeviceDeclaration> declared(SparkSession spark, DecodeSettings s) {
        if (spark.sparkContext().isLocal()) {
            return List.of(here(Device.cpu()));
        }
        int n = Math.max(1, spark.sparkContext().defaultParallelism());
        spark.sparkContext().setJobDescription("mipflow: ask the executors what their devices compute");
        try {
            List<DeviceDeclaration> all = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(IntStream.range(0, n).boxed().toList(), n)
                    .mapPartitions(it -> List.of(forCurrentTask(s)).iterator())
                    .collect();
            Map<String, DeviceDeclaration> byExecutor = new java.util.TreeMap<>();
            all.forEach(d -> byExecutor.putIfAbsent(d.executor() + "/" + d.gpu(), d));
            return new ArrayList<>(byExecutor.values());
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
    }

    /** What this task's device is, as this executor declares it. */
    static DeviceDeclaration forCurrentTask(DecodeSettings s) {
        if (TaskDevice.assignedGpu(TaskContext.get()) != null) {
            ModelCache.configureEngine(s); // TaskDevice may start the engine to count GPUs
        }
        return here(TaskDevice.forCurrentTask().device());
    }

    /** The declaration for {@code device} in this JVM. */
    static DeviceDeclaration here(Device device) {
        if (device.isGpu()) {
            Bf16Support.Verdict v = Bf16Support.of(device);
            return new DeviceDeclaration(executorId(), true, v.supported(), v.reason(),
                    CudaUtils.getGpuMemory(device).getMax(), TaskDevice.tasksPerGpu());
        }
        String id = executorId();
        String flags = System.getProperty(CPU_FLAGS + "." + id, System.getProperty(CPU_FLAGS));
        Bf16Support.Verdict v = flags == null ? Bf16Support.of(Device.cpu()) : Bf16Support.cpu(flags);
        return new DeviceDeclaration(id, false, v.supported(),
                flags == null ? v.reason() : v.reason() + ", declared by -D" + CPU_FLAGS, 0, 1);
    }

    static String executorId() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "driver" : env.executorId();
    }

    /** A run's recipe and the declarations it was resolved from. */
    public record Resolution(Recipe recipe, List<DeviceDeclaration> devices) {
        /** "numerics bf16/nhwc, rows per call ..., from 2 executor(s): ...", for the driver's log. */
        public String describe() {
            StringBuilder s = new StringBuilder("numerics ").append(recipe.numerics() == null ? "as exported"
                    : recipe.numerics().label()).append(", rows per network call ")
                    .append(recipe.rowsPerCall().describe()).append("; resolved from ");
            for (int i = 0; i < devices.size(); i++) {
                s.append(i == 0 ? "" : "; ").append(devices.get(i).describe());
            }
            return s.toString();
        }
    }

    /**
     * Resolves the recipe of a decode with {@code s} once, on the driver, from what the executors
     * declare ({@link Recipe#resolve} is the rule).
     *
     * @param latentEncoding the default encoding of BINARY latents, or null
     */
    public static Resolution resolve(SparkSession spark, DecodeSettings s, DecoderFacts facts,
            LatentEncoding latentEncoding) {
        List<DeviceDeclaration> devices = declared(spark, s);
        FeatureSettings f = s.features();
        Recipe r = Recipe.resolve(facts, s.sampler(), s.seed(), s.numerics(), s.batching(), latentEncoding,
                s.metrics(), f == null ? null : f.sha256(), f == null ? 0 : f.kidSample(), devices);
        return new Resolution(r, devices);
    }
}
