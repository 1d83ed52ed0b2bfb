package org.mipflow.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A {@link FlowUNet}'s weights run through its TorchScript twin, {@code flowunet.pt} (written by
 * {@code scripts/torch/export_flowunet.py}, shipped in this jar), in a {@link NumericPath} DJL
 * cannot express itself: bfloat16 and/or channels-last. The twin holds no weights of its own; it
 * gets this network's parameters once, converts them, and from then on takes and returns float32
 * NCHW like the native block.
 */
final class FlowUNetTwin implements AutoCloseable {
    static final String RESOURCE = "flowunet.pt";
    private static Path extracted;

    private final Model module;
    private final NumericPath path;

    private FlowUNetTwin(Model module, NumericPath path) {
        this.module = module;
        this.path = path;
    }

    /** Loads the twin on {@code device} and hands it {@code net}'s parameters in {@code path}. */
    static FlowUNetTwin of(FlowUNet net, NumericPath path, Device device, NDManager manager) {
        Model module = Model.newInstance("flowunet-" + path.label(), device, "PyTorch");
        try {
            module.load(extractedDir(), "flowunet");
            FlowUNetTwin twin = new FlowUNetTwin(module, path);
            twin.setWeights(net, manager);
            return twin;
        } catch (IOException | MalformedModelException | RuntimeException e) {
            module.close();
            throw new ModelFormatException("cannot set up the " + path.label() + " decoder (TorchScript twin "
                    + RESOURCE + "): " + TorchScriptModel.firstLine(e), e);
        }
    }

    private void setWeights(FlowUNet net, NDManager manager) {
        try (NDManager m = manager.newSubManager()) {
            NDList in = new NDList();
            int count = 0;
            for (Pair<String, Parameter> p : net.getParameters()) {
                // DJL passes arrays named "w.KEY" to TorchScript as entries of one Dict[str, Tensor] "w".
                NDArray a = p.getValue().getArray().duplicate();
                a.attach(m);
                a.setName("w." + p.getKey());
                in.add(a);
                count++;
            }
            boolean bf16 = path.precision() == NumericPath.Precision.BF16;
            boolean nhwc = path.layout() == NumericPath.Layout.NHWC;
            in.add(m.create(new long[] {bf16 ? 1 : 0, nhwc ? 1 : 0}));
            NDArray method = m.create(0f);
            method.setName("module_method:set_weights");
            in.add(method);
            long got = module.getBlock().forward(new ParameterStore(m, false), in, false).singletonOrThrow().toLongArray()[0];
            if (got != count) {
                throw new IllegalStateException("the twin took " + got + " of " + count + " parameters");
            }
        }
    }

    /** Same inputs and output as {@link FlowUNet}'s forward: x [N,3,H,W], time features, z. */
    NDArray forward(NDArray x, NDArray timeFeatures, NDArray z) {
        NDList out = module.getBlock().forward(new ParameterStore(x.getManager(), false),
                new NDList(x, timeFeatures, z), false);
        return out.singletonOrThrow();
    }

    NumericPath path() {
        return path;
    }

    /** DJL loads TorchScript from a directory, so the jar's copy is written to a temporary one once per JVM. */
    private static synchronized Path extractedDir() throws IOException {
        if (extracted == null) {
            Path dir = Files.createTempDirectory("mipflow-flowunet-");
            try (InputStream in = FlowUNetTwin.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new UncheckedIOException(new IOException(RESOURCE + " is missing from the class path"));
                }
                Files.copy(in, dir.resolve("flowunet.pt"), StandardCopyOption.REPLACE_EXISTING);
            }
            dir.resolve("flowunet.pt").toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            extracted = dir;
        }
        return extracted;
    }

    @Override
    public void close() {
        module.close();
    }
}
