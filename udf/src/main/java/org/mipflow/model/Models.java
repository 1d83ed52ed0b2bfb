package org.mipflow.model;

import ai.djl.Device;
import java.nio.file.Path;
import org.mipflow.sampling.Batching;
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

    /**
     * The batch plans of {@code model} under {@code batching}: each batch's from its image size, the
     * device the model runs on, and (on a GPU) its memory shared by {@code tasksSharing} tasks.
     */
    public static Batching.Rule batchingRule(Batching batching, DecoderModel model, int tasksSharing) {
        return batchingRule(batching, model, tasksSharing, GpuMemory.CUDA);
    }

    /**
     * As {@link #batchingRule(Batching, DecoderModel, int)} with the GPU memory figures of
     * {@code memory}. A set rows-per-call needs no device at all: nothing is asked of it then.
     */
    public static Batching.Rule batchingRule(Batching batching, DecoderModel model, int tasksSharing,
            GpuMemory memory) {
        if (batching.callRows() > 0) {
            return Batching.Rule.fixed(batching.taskRows() > 0 ? batching.taskRows() : batching.callRows(),
                    batching.callRows());
        }
        Batching.Device d = batchingDevice(model.device(), tasksSharing, memory);
        return (h, w) -> batching.plan(d, h, w, model.bytesPerRow(h, w));
    }

    /** The device as batching sees it: a GPU with its memory, shared by {@code tasksSharing} tasks, or the CPU. */
    public static Batching.Device batchingDevice(Device device, int tasksSharing) {
        return batchingDevice(device, tasksSharing, GpuMemory.CUDA);
    }

    private static Batching.Device batchingDevice(Device device, int tasksSharing, GpuMemory memory) {
        if (!device.isGpu()) {
            return Batching.Device.CPU;
        }
        return Batching.Device.gpu(memory.bytes(device), tasksSharing);
    }
}
