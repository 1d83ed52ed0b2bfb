package org.mipflow.spark;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.mipflow.model.Bf16Support;
import org.mipflow.model.DecoderModel;
import org.mipflow.model.FeatureNet;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.Models;
import org.mipflow.model.NumericPath;
import org.mipflow.recipe.DeviceDeclaration;
import org.mipflow.recipe.Recipe;
import org.mipflow.sampling.Batching;

/**
 * One loaded decoder per executor JVM and model directory, shared by all concurrent tasks:
 * partitions never reload it, and it is never captured in a closure. Loading is the only
 * synchronised part; decoding through the model is thread-safe.
 */
public final class ModelCache {
    private static final Map<String, DecoderModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();
    private static final Map<String, FeatureNet> FEATURES = new ConcurrentHashMap<>();

    private ModelCache() {}

    public static DecoderModel get(DecodeSettings s) {
        return get(s, note -> {});
    }

    /**
     * The model on this task's device (the GPU Spark assigned to it, else the CPU), loaded once
     * per JVM, device and numeric request; {@code onLoad} gets the device and numerics note, only
     * in the call that loaded it.
     */
    public static DecoderModel get(DecodeSettings s, Consumer<String> onLoad) {
        configureEngine(s); // before TaskDevice, which may start the engine to count GPUs
        TaskDevice.Choice device = TaskDevice.forCurrentTask();
        checkNumerics(s, device);
        // keyed by what the request computes in on this device, so that "auto" (encode, one JVM alone)
        // and a recipe that resolved to the same path share one load
        String key = s.modelDir() + "@" + device.device() + "#"
                + s.loadNumerics().resolve(Bf16Support.of(device.device()).supported());
        return MODELS.computeIfAbsent(key, k -> {
            LOADS.computeIfAbsent(s.modelDir(), d -> new AtomicInteger()).incrementAndGet();
            DecoderModel m = Models.load(Path.of(s.modelDir()), device.device(), s.loadNumerics());
            onLoad.accept(device.note() + ", " + m.numericsLabel() + ", " + (s.recipe() == null
                    ? batchingNote(s.batching(), m) : "rows per network call " + s.recipe().rowsPerCall().describe()));
            return m;
        });
    }

    /**
     * Refuses a recipe in bf16 on a device without native bf16: libtorch would emulate it, and an
     * emulated bf16 gives other bytes than the native one the recipe was resolved for.
     */
    private static void checkNumerics(DecodeSettings s, TaskDevice.Choice device) {
        Recipe r = s.recipe();
        if (r == null || r.numerics() == null || r.numerics().precision() != NumericPath.Precision.BF16) {
            return;
        }
        DeviceDeclaration d = ExecutorDevices.here(device.device());
        if (!d.nativeBf16()) {
            throw new CannotHonourRecipe("executor " + d.executor() + " has no native bf16 (" + d.evidence()
                    + ") and the recipe computes in " + r.numerics().label() + "; run with --precision fp32 (or auto, "
                    + "which picks fp32 unless every executor has native bf16)");
        }
    }

    /** How this load batches, for summary.json's model_devices: B is part of what an image's bytes depend on. */
    static String batchingNote(Batching b, DecoderModel m) {
        if (b.callRows() > 0) {
            return "rows per network call " + b.callRows();
        }
        Batching.Device d = Models.batchingDevice(m.device(), TaskDevice.tasksPerGpu());
        long budget = b.budget(d);
        String cap = d.gpu() ? "at most " + Batching.MAX_ROWS : Batching.describeCpuTable();
        return "rows per network call auto: "
                + (budget == 0 ? cap : "as many as " + (budget >> 20) + " MiB holds, " + cap);
    }

    /** The feature network of {@code s} on this task's device, loaded once per JVM and device. */
    public static FeatureNet features(DecodeSettings s) {
        configureEngine(s);
        TaskDevice.Choice device = TaskDevice.forCurrentTask();
        return FEATURES.computeIfAbsent(s.features().dir() + "@" + device.device(),
                k -> FeatureNet.load(Path.of(s.features().dir()), device.device()));
    }

    /** The native model (encode needs its encoder). */
    public static MipflowModel getNative(DecodeSettings s) {
        DecoderModel m = get(s);
        if (!(m instanceof MipflowModel nm)) {
            throw new IllegalArgumentException(
                    "model " + s.modelDir() + " has no encoder; encode needs a native Mipflow model");
        }
        return nm;
    }

    /**
     * Engine settings, which act only before libtorch starts: the first task of a JVM that needs
     * the engine applies them and starts it; for every later one this changes nothing (a request
     * for another thread count gets the JVM's, and {@link MipflowModel#configureThreads} logs that
     * once).
     */
    static synchronized void configureEngine(DecodeSettings s) {
        if (s.engineCacheDir() != null && System.getProperty("ENGINE_CACHE_DIR") == null) {
            System.setProperty("ENGINE_CACHE_DIR", s.engineCacheDir());
        }
        MipflowModel.configureThreads(s.intraOpThreads());
    }

    /** How many times this JVM loaded the model in {@code dir} (tests check that it is once). */
    public static int loads(String dir) {
        AtomicInteger n = LOADS.get(dir);
        return n == null ? 0 : n.get();
    }
}
