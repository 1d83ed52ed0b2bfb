package org.mipflow.model;

import ai.djl.Device;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads a model directory of either format (model.json's "format" decides). */
public final class Models {
    private static final Logger LOG = LoggerFactory.getLogger(Models.class);

    private Models() {}

    public static DecoderModel load(Path dir) {
        return load(dir, Device.cpu());
    }

    public static DecoderModel load(Path dir, Device device) {
        return load(dir, device, NumericPath.Request.AUTO);
    }

    /**
     * Loads {@code dir} for {@code device}; a native model computes in the numeric path the request
     * resolves to on that device (logged). A TorchScript export computes in whatever it was
     * exported in, so the request does not apply to it.
     */
    public static DecoderModel load(Path dir, Device device, NumericPath.Request request) {
        String format = DecoderFacts.format(dir);
        if (TorchScriptManifest.FORMAT.equals(format)) {
            if (!request.equals(NumericPath.Request.AUTO)) {
                LOG.warn("model {} is a TorchScript export: precision/layout {}/{} do not apply, it computes as exported",
                        dir, request.precision(), request.layout());
            }
            return TorchScriptModel.load(dir, device);
        }
        Bf16Support.Verdict bf16 = Bf16Support.of(device);
        NumericPath numerics = request.resolve(bf16.supported());
        LOG.info("model {} on {}: decoder computes in {} (asked {}/{}; {})", dir, device, numerics.label(),
                request.precision(), request.layout(), bf16.reason());
        return MipflowModel.load(dir, device, numerics);
    }
}
