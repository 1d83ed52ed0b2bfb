package org.mipflow.model;

import ai.djl.Device;
import java.nio.file.Path;

/** Loads a model directory of either format (model.json's "format" decides). */
public final class Models {
    private Models() {}

    public static DecoderModel load(Path dir) {
        return load(dir, Device.cpu());
    }

    public static DecoderModel load(Path dir, Device device) {
        String format = DecoderFacts.format(dir);
        if (TorchScriptManifest.FORMAT.equals(format)) {
            return TorchScriptModel.load(dir, device);
        }
        return MipflowModel.load(dir, device);
    }
}
