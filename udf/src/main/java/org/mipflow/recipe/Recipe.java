package org.mipflow.recipe;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.mipflow.io.LatentEncoding;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.NumericPath;
import org.mipflow.model.TorchScriptManifest;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/**
 * Everything the bytes of a run's images (and its summary's figures) depend on, every "auto"
 * resolved: one value per run, decided once on the driver before the first task
 * ({@link #resolve}), sent to every task, written with every wave's commit record and in
 * summary.json, and compared field by field on {@code --resume}. An executor that cannot compute
 * it (no native bf16 where it says bf16, too little memory for its rows per call) fails its task
 * rather than compute other bytes. The seed, id and latent of a row are the only other inputs.
 *
 * @param modelFormat model.json's format
 * @param modelSha256 the SHA-256 of every model file, by name
 * @param mode the sampling mode
 * @param steps Euler steps of mode full (0 in other modes, where they do not apply)
 * @param stageSteps Euler steps per stage of mode multiscale (empty in other modes)
 * @param seed the noise seed
 * @param guidanceScale the guidance scale W (1: unguided)
 * @param guidanceInterval the network times [low, high] guidance applies in, or null when unguided
 * @param numerics precision and layout, or null for a TorchScript export (computes as exported)
 * @param rowsPerCall the rule that gives B, the rows in every network call, from an image's size
 * @param latentEncoding the encoding of BINARY latents without a per-row dtype column, or null (none set)
 * @param metrics the per-image metrics scored (their means pool over the waves)
 * @param featuresSha256 the feature network of rFID/KID, or null without one
 * @param kidSample rows kept for KID (0 without a feature network)
 */
public record Recipe(String modelFormat, Map<String, String> modelSha256, SamplingMode mode, int steps,
        List<Integer> stageSteps, long seed, double guidanceScale, List<Double> guidanceInterval,
        NumericPath numerics, CallRows rowsPerCall, LatentEncoding latentEncoding, List<String> metrics,
        String featuresSha256, int kidSample) implements Serializable {

    public Recipe {
        modelSha256 = Collections.unmodifiableSortedMap(new TreeMap<>(modelSha256));
        stageSteps = List.copyOf(stageSteps);
        guidanceInterval = guidanceInterval == null ? null : List.copyOf(guidanceInterval);
        metrics = List.copyOf(metrics);
    }

    /**
     * How B, the rows of every network call, follows from an image's size; the same function on
     * every executor, so every image of a run is made with the same B for its size.
     *
     * @param fixed a set --rows-per-call (then the rest does not apply), or 0
     * @param gpu the GPU rule (as many rows as {@code budgetBytes} holds, at most
     *     {@link Batching#MAX_ROWS}) rather than the CPU's measured table
     * @param budgetBytes the memory one call's rows may hold (0: no cap, CPU only)
     */
    public record CallRows(int fixed, boolean gpu, long budgetBytes) implements Serializable {
        /** The plan of a task batch of h x w images; {@code taskRows} (N, 0: auto) decides speed only. */
        public Batching.Plan plan(int taskRows, int h, int w, long bytesPerRow) {
            // With budgetBytes set, Batching's device memory is not consulted: the budget is the resolved one.
            Batching.Device d = gpu ? Batching.Device.gpu(0, 1) : Batching.Device.CPU;
            return new Batching(taskRows, fixed, budgetBytes).plan(d, h, w, bytesPerRow);
        }

        public String describe() {
            if (fixed > 0) {
                return Integer.toString(fixed);
            }
            String cap = budgetBytes > 0 ? "as many as " + (budgetBytes >> 20) + " MiB holds" : null;
            if (gpu) {
                return cap + ", at most " + Batching.MAX_ROWS;
            }
            return Batching.describeCpuTable() + (cap == null ? "" : ", " + cap);
        }
    }

    /**
     * The one rule that resolves what was asked for into a recipe, from what the executors declare:
     *
     * <ul>
     *   <li>numerics: "auto" precision is bf16 only when <em>every</em> declared device computes bf16
     *       natively (and the layout is not nchw), else fp32; "auto" layout is nhwc. A set precision is
     *       kept as it is (an executor without native bf16 then fails its tasks).
     *   <li>rows per call: a set value is kept. On "auto", when every declared device is a GPU, the
     *       GPU rule with the smallest budget any of them gives (a set --memory-budget, else 40% of its
     *       memory shared by its tasks); otherwise the CPU's fixed table, capped by a set
     *       --memory-budget.
     * </ul>
     *
     * @param devices what the executors declared (at least one)
     * @param latentEncoding the default encoding of BINARY latents, or null
     * @param featuresSha256 null without a feature network
     */
    public static Recipe resolve(DecoderFacts facts, SamplerConfig sampler, long seed, NumericPath.Request numerics,
            Batching batching, LatentEncoding latentEncoding, MetricSet metrics, String featuresSha256, int kidSample,
            List<DeviceDeclaration> devices) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("no executor declared its device");
        }
        boolean allBf16 = devices.stream().allMatch(DeviceDeclaration::nativeBf16);
        NumericPath path = TorchScriptManifest.FORMAT.equals(facts.format()) ? null : numerics.resolve(allBf16);
        CallRows rows;
        if (batching.callRows() > 0) {
            rows = new CallRows(batching.callRows(), false, 0);
        } else if (devices.stream().allMatch(DeviceDeclaration::gpu)) {
            long budget = devices.stream().mapToLong(d -> batching.budget(d.batchingDevice())).min().orElseThrow();
            rows = new CallRows(0, true, budget);
        } else {
            rows = new CallRows(0, false, batching.budget(Batching.Device.CPU));
        }
        // W <= 1, or a model without a null condition, is unguided whatever W was asked: one record for it
        double w = facts.cfgScale(sampler);
        boolean guided = w > 1 && facts.guidance() != null;
        List<Double> interval = guided ? List.of(facts.guidance().low(), facts.guidance().high()) : null;
        List<Integer> stageSteps = new ArrayList<>();
        if (sampler.mode() == SamplingMode.MULTISCALE) {
            for (int s : sampler.stageSteps()) {
                stageSteps.add(s);
            }
        }
        return new Recipe(facts.format(), facts.files(), sampler.mode(),
                sampler.mode() == SamplingMode.FULL ? sampler.fullSteps() : 0, stageSteps, seed, guided ? w : 1.0,
                interval, path,
                rows, latentEncoding, metrics.names(), featuresSha256, featuresSha256 == null ? 0 : kidSample);
    }

    /** The precision and layout as executors take them: explicit, so no executor resolves "auto" itself. */
    public NumericPath.Request numericsRequest() {
        if (numerics == null) {
            return NumericPath.Request.AUTO; // a TorchScript export computes as exported
        }
        String[] pl = numerics.label().split("/");
        return new NumericPath.Request(pl[0], pl[1]);
    }

    /** The recipe as summary.json and the commit records hold it; {@link #differences} compares this form. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("model_format", modelFormat);
        JsonObject sha = new JsonObject();
        modelSha256.forEach(sha::addProperty);
        o.add("model_sha256", sha);
        o.addProperty("mode", mode.label());
        o.add("steps", steps > 0 ? new com.google.gson.JsonPrimitive(steps) : JsonNull.INSTANCE);
        JsonArray st = new JsonArray();
        stageSteps.forEach(st::add);
        o.add("stage_steps", st);
        o.addProperty("seed", seed);
        o.addProperty("guidance_scale", guidanceScale);
        if (guidanceInterval == null) {
            o.add("guidance_interval", JsonNull.INSTANCE);
        } else {
            JsonArray gi = new JsonArray();
            guidanceInterval.forEach(gi::add);
            o.add("guidance_interval", gi);
        }
        o.addProperty("numerics", numerics == null ? "as exported (TorchScript)" : numerics.label());
        o.addProperty("rows_per_call", rowsPerCall.describe());
        o.addProperty("latent_encoding", latentEncoding == null ? "per row (latent_dtype column or ARRAY<FLOAT>)"
                : latentEncoding.label());
        JsonArray ms = new JsonArray();
        metrics.forEach(ms::add);
        o.add("metrics", ms);
        o.addProperty("features_sha256", featuresSha256);
        o.addProperty("kid_sample", kidSample);
        return o;
    }

    /**
     * The fields in which {@code committed} (a recipe's {@link #toJson}, as a commit record holds
     * it) differs from this one, each as "name (committed X, now Y)"; empty when they agree.
     */
    public List<String> differences(JsonObject committed) {
        JsonObject now = toJson();
        TreeSet<String> keys = new TreeSet<>(now.keySet());
        keys.addAll(committed.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            JsonElement a = committed.has(k) ? committed.get(k) : JsonNull.INSTANCE;
            JsonElement b = now.has(k) ? now.get(k) : JsonNull.INSTANCE;
            if (!Objects.equals(a, b)) {
                out.add(k + " (committed " + a + ", now " + b + ")");
            }
        }
        return out;
    }
}
