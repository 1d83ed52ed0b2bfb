package org.mipflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import java.util.function.UnaryOperator;

/**
 * Base of the project's networks: one DJL block whose parameters are created up front with known
 * shapes by small layer objects ({@link Layers}), and whose forward pass calls DJL's functional
 * operators. Parameter order is creation order, which fixes the on-disk format.
 */
public abstract class NetBlock extends AbstractBlock {
    private final long seed;

    NetBlock(byte version, long seed) {
        super(version);
        this.seed = seed;
    }

    Parameter weight(String name, Shape shape, double scale) {
        return addParameter(
                Parameter.builder()
                        .setName(name)
                        .setType(Parameter.Type.WEIGHT)
                        .optShape(shape)
                        .optInitializer(new SeededInit(seed * 1_000_003L + name.hashCode(), scale))
                        .build());
    }

    Parameter zeros(String name, Shape shape) {
        return addParameter(
                Parameter.builder()
                        .setName(name)
                        .setType(Parameter.Type.BIAS)
                        .optShape(shape)
                        .optInitializer(SeededInit.zeros())
                        .build());
    }

    Parameter ones(String name, Shape shape) {
        return addParameter(
                Parameter.builder()
                        .setName(name)
                        .setType(Parameter.Type.GAMMA)
                        .optShape(shape)
                        .optInitializer(SeededInit.ones())
                        .build());
    }

    /**
     * Runs {@code f} so that its intermediates are freed when it returns (docs/METHOD.md section 8.1,
     * pitfall b). Only outside training: there autograd needs them until backward.
     */
    static NDArray scoped(NDArray x, boolean training, UnaryOperator<NDArray> f) {
        if (training) {
            return f.apply(x);
        }
        NDManager parent = x.getManager();
        try (NDManager sub = parent.newSubManager()) {
            x.tempAttach(sub);
            NDArray y = f.apply(x);
            y.attach(parent);
            return y;
        }
    }
}
