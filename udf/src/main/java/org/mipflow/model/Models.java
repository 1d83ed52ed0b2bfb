package org.mipflow.model;

import java.nio.file.Path;

/** Loads a model directory of either format (model.json's "format" decides). */
public final class Models {
    private Models() {}

    public static DecoderModel load(Path dir) {
        String format = DecoderFacts.format(dir);
        if (TorchScriptManifest.FORMAT.equals(format)) {
            return TorchScriptModel.load(dir);
        }
        return MipflowModel.load(dir);
    }
}
