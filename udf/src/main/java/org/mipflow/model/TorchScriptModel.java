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
import java.util.Arrays;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.StageSchedule;

/**
 * A decoder exported from PyTorch as TorchScript, run through DJL's PyTorch engine.
 *
 * <p>Forward contract (README): {@code forward(x [N,3,H,W], t [N], z [N,C,h,w]) -> v [N,3,H,W]},
 * all float32, t the global flow time, z at its stored size (the module resizes it), v = dx/dt.
 * The samplers step each pyramid stage in its local time u, where t = end + u (start - end), so
 * the velocity is scaled by the stage's span here; the full-resolution flow has t = u.
 *
 * <p>Both modules are probed once at load with a small input, so that an export that does not
 * follow the contract is refused with a message before any row is processed.
 */
public final class TorchScriptModel implements DecoderModel {
    private final TorchScriptManifest manifest;
    private final Model teacher;
    private final Model student;
    private final NDManager manager;

    private TorchScriptModel(TorchScriptManifest manifest, Model teacher, Model student, NDManager manager) {
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
        Model teacher = null;
        Model student = null;
        try {
            teacher = loadModule(dir, m.teacher(), device);
            if (m.student() != null) {
                student = loadModule(dir, m.student(), device);
            }
            TorchScriptModel model = new TorchScriptModel(m, teacher, student,
                    NDManager.newBaseManager(device, "PyTorch"));
            model.probe(false);
            if (student != null) {
                model.probe(true);
            }
            return model;
        } catch (RuntimeException e) {
            if (teacher != null) {
                teacher.close();
            }
            if (student != null) {
                student.close();
            }
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

    /** One call at the coarsest stage and one at full resolution, on the smallest latent allowed. */
    private void probe(boolean useStudent) {
        String file = useStudent ? manifest.student() : manifest.teacher();
        int zs = latentSideMultiple();
        int side = zs * downsample();
        for (int[] call : new int[][] {{schedule().resolution(0, side), 0}, {side, scheduler().fullFlow()}}) {
            int h = call[0];
            float[] x = new float[3 * h * h];
            float[] z = new float[latentChannels() * zs * zs];
            try {
                velocity(x, 1, h, h, z, zs, zs, 0.5, call[1], useStudent);
            } catch (RuntimeException e) {
                throw new ModelFormatException(file + " does not follow the forward contract forward(x [N,3,H,W], "
                        + "t [N], z [N,C,h,w]) -> [N,3,H,W] float32: called with x [1,3," + h + "," + h + "], t [1], z [1,"
                        + latentChannels() + "," + zs + "," + zs + "]: " + firstLine(e), e);
            }
        }
    }

    @Override
    public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
            boolean useStudent) {
        Model module = useStudent ? student : teacher;
        if (module == null) {
            throw new IllegalStateException("this model has no one-step student (model.json names none)");
        }
        Block block = module.getBlock();
        float[] ts = new float[n];
        Arrays.fill(ts, (float) t);
        float[] v;
        try (NDManager m = manager.newSubManager()) {
            NDList in = new NDList(m.create(x, new Shape(n, 3, h, w)), m.create(ts, new Shape(n)),
                    m.create(z, new Shape(n, latentChannels(), zh, zw)));
            NDList out = block.forward(new ParameterStore(m, false), in, false);
            v = checked(out, new Shape(n, 3, h, w)).toFloatArray();
        }
        FlowScheduler sch = scheduler();
        if (sch.isPyramid(stageType)) {
            double span = sch.span(stageType);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (span * v[i]);
            }
        }
        return v;
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
    public long bytesPerImage(int h, int w) {
        return BatchBudget.torchScriptBytesPerImage(h, w);
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
        return student != null;
    }

    @Override
    public void close() {
        manager.close();
        teacher.close();
        if (student != null) {
            student.close();
        }
    }
}
