package org.mipflow.spark;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.Models;
import org.mipflow.sampling.VelocityModel;

/**
 * One loaded decoder per executor JVM and model directory, shared by all concurrent tasks:
 * partitions never reload it, and it is never captured in a closure. Loading is the only
 * synchronised part; decoding through the model is thread-safe.
 */
public final class ModelCache {
    private static final Map<String, VelocityModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> LOADS = new ConcurrentHashMap<>();

    private ModelCache() {}

    public static VelocityModel get(DecodeSettings s) {
        return get(s, () -> {});
    }

    /** As {@link #get(DecodeSettings)}; {@code onLoad} runs only in the call that loaded the model. */
    public static VelocityModel get(DecodeSettings s, Runnable onLoad) {
        return MODELS.computeIfAbsent(s.modelDir(), dir -> {
            configureEngine(s);
            LOADS.computeIfAbsent(dir, d -> new AtomicInteger()).incrementAndGet();
            VelocityModel m = Models.load(Path.of(dir));
            onLoad.run();
            return m;
        });
    }

    /** The native model (encode needs its encoder). */
    public static MipflowModel getNative(DecodeSettings s) {
        VelocityModel m = get(s);
        if (!(m instanceof MipflowModel nm)) {
            throw new IllegalArgumentException("model " + s.modelDir() + " has no encoder; encode needs a native Mipflow model");
        }
        return nm;
    }

    private static synchronized void configureEngine(DecodeSettings s) {
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
