package org.mipflow.jobs.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Adam moments kept by the trainer itself (DJL's optimizer keeps them private), so that a
 * checkpoint holds them and a resumed run continues exactly. The update is libtorch's fused
 * Adam step, reached through DJL's NDArrayEx, which also zeroes the gradient.
 */
final class AdamState {
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.99f;
    private static final float EPS = 1e-8f;

    private final List<Parameter> params;
    private final NDList moments;

    AdamState(List<Parameter> params, NDManager manager) {
        this.params = params;
        this.moments = new NDList();
        for (Parameter p : params) {
            moments.add(manager.zeros(p.getArray().getShape()));
            moments.add(manager.zeros(p.getArray().getShape()));
        }
    }

    /** Applies one update at 1-based step t with learning rate lr to every parameter. */
    void step(int t, float lr) {
        double c1 = 1 - Math.pow(BETA1, t);
        double c2 = 1 - Math.pow(BETA2, t);
        float corrected = (float) (lr * Math.sqrt(c2) / c1);
        for (int i = 0; i < params.size(); i++) {
            NDArray w = params.get(i).getArray();
            try (NDArray g = w.getGradient()) {
                NDList in = new NDList(w, g, moments.get(2 * i), moments.get(2 * i + 1));
                w.getNDArrayInternal()
                        .adamUpdate(in, new NDList(w), lr, corrected, 0f, 1f, -1f, BETA1, BETA2, EPS, true, false);
            }
        }
    }

    void save(Path file) throws IOException {
        Files.write(file, moments.encode());
    }

    void load(Path file) throws IOException {
        NDList saved = NDList.decode(moments.get(0).getManager(), Files.readAllBytes(file));
        if (saved.size() != moments.size()) {
            throw new IOException("optimizer state in " + file + " does not match the model");
        }
        for (int i = 0; i < saved.size(); i++) {
            moments.get(i).set(saved.get(i).toFloatArray());
        }
        saved.close();
    }
}
