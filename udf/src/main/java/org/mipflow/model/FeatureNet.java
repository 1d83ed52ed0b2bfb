package org.mipflow.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mipflow.io.ImageOps;
import org.mipflow.sampling.ImageFeatures;

/**
 * A feature network the user supplies for rFID and KID (docs/quality.md), exported as
 * TorchScript: {@code forward(x [N,3,S,S] float32) -> [N,D] float32}. Mipflow does what model.json
 * says before the call (resize to S, scale 8-bit values to the stated range), one image per call.
 */
public final class FeatureNet implements ImageFeatures, AutoCloseable {
    public static final String FORMAT = "torchscript-features";

    /** How images reach the network's input size. */
    public enum Resize {
        /** PyTorch's F.interpolate(mode="bilinear", align_corners=False), pytorch-fid's resize. */
        BILINEAR,
        /** The image at its decoded size: the module resizes (or takes any size) itself. */
        NONE
    }

    /** The value range the network takes, from 8-bit values v: v/255, v/127.5 - 1, or v. */
    public enum ValueRange {
        UNIT("[0, 1]"),
        SIGNED("[-1, 1]"),
        BYTES("[0, 255]");

        final String label;

        ValueRange(String label) {
            this.label = label;
        }

        float apply(float v) {
            return switch (this) {
                case UNIT -> v / 255f;
                case SIGNED -> v / 127.5f - 1f;
                case BYTES -> v;
            };
        }

        static ValueRange of(String label) {
            for (ValueRange r : values()) {
                if (r.label.equals(label)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("valueRange '" + label + "' is not one of \"[0, 1]\", \"[-1, 1]\", \"[0, 255]\"");
        }
    }

    /** model.json of a feature network. */
    public record Manifest(String module, int inputSize, Resize resize, ValueRange range, int featureDim,
            String sha256) {
        public static Manifest read(Path dir) {
            JsonObject o = DecoderFacts.json(dir);
            Path json = dir.resolve(ModelManifest.FILE);
            Manifest m;
            List<String> missing = new java.util.ArrayList<>();
            for (String f : List.of("format", "module", "inputSize", "resize", "valueRange", "featureDim", "sha256")) {
                if (!o.has(f) || o.get(f).isJsonNull()) {
                    missing.add(f);
                }
            }
            if (!missing.isEmpty()) {
                throw new ModelFormatException(json + " lacks the field(s) " + String.join(", ", missing)
                        + " of a feature network");
            }
            try {
                String format = o.get("format").getAsString();
                if (!FORMAT.equals(format)) {
                    throw new ModelFormatException(json + ": format '" + format + "' is not a feature network (\""
                            + FORMAT + "\")");
                }
                String module = o.get("module").getAsString();
                JsonObject sums = o.getAsJsonObject("sha256");
                if (sums == null || !sums.has(module)) {
                    throw new ModelFormatException(json + ": sha256 lists no checksum for " + module);
                }
                m = new Manifest(module, o.get("inputSize").getAsInt(),
                        Resize.valueOf(o.get("resize").getAsString().toUpperCase(java.util.Locale.ROOT)),
                        ValueRange.of(o.get("valueRange").getAsString()), o.get("featureDim").getAsInt(),
                        sums.get(module).getAsString());
            } catch (ModelFormatException e) {
                throw e;
            } catch (RuntimeException e) {
                // the parser's own words only where they are about the value (not Java's about a null or a type)
                throw new ModelFormatException(json + " has a malformed field (format, module, inputSize, resize "
                        + "bilinear|none, valueRange, featureDim, sha256)" + (e instanceof IllegalArgumentException
                        && !(e instanceof NumberFormatException) ? ": " + e.getMessage() : ""), e);
            }
            if (m.inputSize < 1 || m.featureDim < 1) {
                throw new ModelFormatException(json + ": inputSize and featureDim must be positive");
            }
            Map<String, String> files = new LinkedHashMap<>();
            files.put(m.module, m.sha256);
            ModelManifest.verifyFiles(dir, files);
            return m;
        }
    }

    private final Manifest manifest;
    private final Model model;
    private final NDManager manager;

    private FeatureNet(Manifest manifest, Model model, NDManager manager) {
        this.manifest = manifest;
        this.model = model;
        this.manager = manager;
    }

    /** Loads and checks the module against its SHA-256; the output shape is checked per call. */
    public static FeatureNet load(Path dir, Device device) {
        Manifest m = Manifest.read(dir);
        Model model = Model.newInstance(m.module(), device, "PyTorch");
        try {
            model.load(dir, m.module().substring(0, m.module().length() - ".pt".length()));
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new ModelFormatException("cannot load feature network " + dir.resolve(m.module()) + ": " + e.getMessage(), e);
        }
        return new FeatureNet(m, model, NDManager.newBaseManager(device, "PyTorch"));
    }

    public Manifest manifest() {
        return manifest;
    }

    @Override
    public float[] of(float[] rgb, int h, int w) {
        int s = manifest.inputSize();
        float[] x = manifest.resize() == Resize.BILINEAR && (h != s || w != s) ? ImageOps.bilinear(rgb, 3, h, w, s, s)
                : rgb.clone();
        int oh = manifest.resize() == Resize.BILINEAR ? s : h;
        int ow = manifest.resize() == Resize.BILINEAR ? s : w;
        for (int i = 0; i < x.length; i++) {
            x[i] = manifest.range().apply(x[i]);
        }
        try (NDManager m = manager.newSubManager()) {
            NDList out = model.getBlock().forward(new ParameterStore(m, false),
                    new NDList(m.create(x, new Shape(1, 3, oh, ow))), false);
            if (out.size() != 1) {
                throw new IllegalStateException("returned " + out.size() + " tensors, expected one [1," + manifest.featureDim() + "]");
            }
            NDArray f = out.get(0);
            Shape expected = new Shape(1, manifest.featureDim());
            if (!f.getShape().equals(expected) || f.getDataType() != DataType.FLOAT32) {
                throw new IllegalStateException("returned " + f.getDataType() + " " + f.getShape() + ", model.json says float32 "
                        + expected);
            }
            return f.toFloatArray();
        }
    }

    @Override
    public void close() {
        manager.close();
        model.close();
    }
}
