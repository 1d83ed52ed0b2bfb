import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.NetBlock;

/**
 * Root mean square of a model's weights, whole or per input channel: whether a part that a grown
 * model added at zero (`train --init ... --encoder-blocks`, `--latent-levels`, `--latent-channels`)
 * was learned, next to the trained parts it sits beside (models/README.md). After `mvn install`:
 *
 * <pre>  java -cp "$(cat jobs/target/classpath.txt):udf/target/mipflow-udf-0.1.0-SNAPSHOT.jar" \
 *      scripts/ParamRms.java MODEL_DIR REGEX [--per-input]</pre>
 *
 * REGEX matches parameter names (e.g. {@code 'dec\.z[12]\.w'}); with --per-input a weight's rms is
 * printed for each input channel (axis 1), so a latent's added channels show apart from the old.
 */
public class ParamRms {
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: java -cp CLASSPATH scripts/ParamRms.java MODEL_DIR REGEX [--per-input]");
            System.exit(2);
        }
        Pattern names = Pattern.compile(args[1]);
        boolean perInput = args.length > 2 && args[2].equals("--per-input");
        try (MipflowModel m = MipflowModel.load(Path.of(args[0]))) {
            for (NetBlock net : new NetBlock[] {m.encoder(), m.teacher()}) {
                for (Pair<String, Parameter> p : net.getParameters()) {
                    String name = p.getValue().getName();
                    if (!names.matcher(name).matches()) {
                        continue;
                    }
                    long[] shape = p.getValue().getArray().getShape().getShape();
                    float[] w = p.getValue().getArray().toFloatArray();
                    System.out.printf(Locale.ROOT, "%-18s %-18s rms %.5f%n", name, p.getValue().getArray().getShape(),
                            rms(w, shape, -1));
                    if (perInput && shape.length > 1) {
                        for (int i = 0; i < shape[1]; i++) {
                            System.out.printf(Locale.ROOT, "  input %3d rms %.5f%n", i, rms(w, shape, i));
                        }
                    }
                }
            }
        }
    }

    /** Over the whole weight (input < 0), or over the entries of one input channel (axis 1). */
    private static double rms(float[] w, long[] shape, int input) {
        long inner = 1;
        for (int a = 2; a < shape.length; a++) {
            inner *= shape[a];
        }
        long inputs = shape.length > 1 ? shape[1] : 1;
        double sq = 0;
        long n = 0;
        for (int i = 0; i < w.length; i++) {
            if (input < 0 || (i / inner) % inputs == input) {
                sq += (double) w[i] * w[i];
                n++;
            }
        }
        return Math.sqrt(sq / n);
    }
}
