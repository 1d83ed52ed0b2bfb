package org.mipflow.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.mipflow.io.LatentSpec;
import org.mipflow.sampling.Guidance;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.schedule.ScheduleConvention;
import org.mipflow.schedule.StageSchedule;

/**
 * A decoder exported from PyTorch as TorchScript, run through DJL's PyTorch engine.
 *
 * <p>Forward contract (docs/own-decoder.md): {@code forward(x [N,3,H,W], t [N], z [N,C,h,w]) -> v [N,3,H,W]},
 * or {@code forward(x, t, context [N,T,D])} for token latents, all float32; t the network time and
 * v the velocity in the units model.json states (by default the global flow time and dx/dt,
 * which the samplers scale to the stage's local time, see FlowScheduler.localVelocity). An export
 * traced at each stage's resolution has one module per stage.
 *
 * <p>Both modules are probed once at load with a small input, so that an export that does not
 * follow the contract is refused with a message before any row is processed.
 */
public final class TorchScriptModel implements DecoderModel {
    private final TorchScriptManifest manifest;
    /** The teacher's modules: one, or one per stage. */
    private final List<Model> teacher;
    /** The student's modules, or empty. */
    private final List<Model> student;
    private final NDManager manager;

    private TorchScriptModel(TorchScriptManifest manifest, List<Model> teacher, List<Model> student, NDManager manager) {
        this.manifest = manifest;
        this.teacher = teacher;
        this.student = student;
        this.manager = manager;
    }

    public static TorchScriptModel load(Path dir) {
        return load(dir, Device.cpu());
    }

    public static TorchScriptModel load(Path dir, Device device) {
        TorchScriptManifest m = TorchScriptManifest.read(dir);
        List<Model> teacher = new ArrayList<>();
        List<Model> student = new ArrayList<>();
        try {
            for (String f : m.teacher()) {
                teacher.add(loadModule(dir, f, device));
            }
            for (String f : m.student()) {
                student.add(loadModule(dir, f, device));
            }
            TorchScriptModel model = new TorchScriptModel(m, teacher, student,
                    NDManager.newBaseManager(device, "PyTorch"));
            model.probe(false);
            if (!student.isEmpty()) {
                model.probe(true);
            }
            return model;
        } catch (RuntimeException e) {
            teacher.forEach(Model::close);
            student.forEach(Model::close);
            throw e;
        }
    }

    private static Model loadModule(Path dir, String file, Device device) {
        Model model = Model.newInstance(file, device, "PyTorch");
        try {
            model.load(dir, file.substring(0, file.length() - ".pt".length()));
            return model;
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new ModelFormatException("cannot load TorchScript module " + dir.resolve(file) + ": " + firstLine(e), e);
        }
    }

    /**
     * One call at every stage type the modes use, on the smallest latent allowed (a token model's
     * own latent), with two rows where guidance would call with two.
     */
    private void probe(boolean useStudent) {
        List<String> files = useStudent ? manifest.student() : manifest.teacher();
        int zh = latent() instanceof LatentSpec.Tokens t ? t.tokens() : latentSideMultiple();
        int zw = latent() instanceof LatentSpec.Tokens t ? t.dim() : latentSideMultiple();
        int side = latent().imageSize(zh, zw)[0];
        int rows = guidance() != null ? 2 : 1;
        int k = schedule().stages();
        List<Integer> types = new ArrayList<>();
        for (int stage = 0; stage < k; stage++) {
            types.add(stage);
        }
        if (modes().contains(SamplingMode.FULL)) {
            types.add(scheduler().fullFlow());
        }
        for (int type : types) {
            if (files.size() == 1 && type > 0 && type < k - 1) {
                continue; // one module for every stage: the coarsest and the finest say enough
            }
            int h = scheduler().isPyramid(type) ? schedule().resolution(type, side) : side;
            float[] x = new float[rows * 3 * h * h];
            float[] z = new float[rows * latentChannels() * zh * zw];
            try {
                velocity(x, rows, h, h, z, zh, zw, 0.5, type, useStudent);
            } catch (RuntimeException e) {
                String file = files.get(Math.min(type, files.size() - 1));
                throw new ModelFormatException(file + " does not follow the forward contract forward(x [N,3,H,W], "
                        + "t [N], " + (latent() instanceof LatentSpec.Tokens ? "context [N,T,D]" : "z [N,C,h,w]")
                        + ") -> [N,3,H,W] float32: called with x [" + rows + ",3," + h + "," + h + "], t [" + rows + "], "
                        + Arrays.toString(zShape(rows, zh, zw).getShape()) + ": " + firstLine(e), e);
            }
        }
    }

    private Shape zShape(int n, int zh, int zw) {
        return latent() instanceof LatentSpec.Tokens ? new Shape(n, zh, zw) : new Shape(n, latentChannels(), zh, zw);
    }

    /**
     * The module's output as it is, in the unit model.json states ({@link #convention}): the
     * samplers make it stage-local (docs/own-decoder.md).
     */
    @Override
    public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
            boolean useStudent) {
        List<Model> modules = useStudent ? student : teacher;
        if (modules.isEmpty()) {
            throw new IllegalStateException("this model has no one-step student (model.json names none)");
        }
        Block block = modules.get(Math.min(stageType, modules.size() - 1)).getBlock();
        float[] ts = new float[n];
        Arrays.fill(ts, (float) t);
        try (NDManager m = manager.newSubManager()) {
            NDList in = new NDList(m.create(x, new Shape(n, 3, h, w)), m.create(ts, new Shape(n)),
                    m.create(z, zShape(n, zh, zw)));
            NDList out = block.forward(new ParameterStore(m, false), in, false);
            return checked(out, new Shape(n, 3, h, w)).toFloatArray();
        }
    }

    @Override
    public ScheduleConvention convention() {
        return manifest.convention();
    }

    @Override
    public Guidance guidance() {
        return manifest.guidance();
    }

    @Override
    public LatentSpec latent() {
        LatentSpec l = manifest.latent();
        return l instanceof LatentSpec.Grid g ? new LatentSpec.Grid(g.channels(), g.downsample(), latentSideMultiple())
                : l;
    }

    @Override
    public Set<SamplingMode> modes() {
        Set<SamplingMode> m = EnumSet.noneOf(SamplingMode.class);
        m.addAll(manifest.modes());
        if (!hasStudent()) {
            m.remove(SamplingMode.ONESTEP);
        }
        return m;
    }

    private static NDArray checked(NDList out, Shape expected) {
        if (out.size() != 1) {
            throw new IllegalStateException("forward returned " + out.size() + " tensors, expected one");
        }
        NDArray v = out.get(0);
        if (v.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("forward returned " + v.getDataType() + ", expected float32");
        }
        if (!v.getShape().equals(expected)) {
            throw new IllegalStateException("forward returned shape " + v.getShape() + ", expected " + expected
                    + " (the shape of x)");
        }
        return v;
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public long bytesPerRow(int h, int w) {
        return RowBytes.torchScript(manifest.memory(), h, w);
    }

    @Override
    public ai.djl.Device device() {
        return manager.getDevice();
    }

    @Override
    public String numericsLabel() {
        return "as exported (TorchScript)";
    }

    @Override
    public StageSchedule schedule() {
        return manifest.schedule();
    }

    @Override
    public int latentChannels() {
        return manifest.latentChannels();
    }

    @Override
    public int downsample() {
        return manifest.downsample();
    }

    @Override
    public boolean hasStudent() {
        return !student.isEmpty();
    }

    @Override
    public void close() {
        manager.close();
        teacher.forEach(Model::close);
        student.forEach(Model::close);
    }
}
