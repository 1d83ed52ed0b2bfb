package org.mipflow.sampling;

import java.io.Serializable;
import java.util.Locale;

/**
 * What "batch" means in Mipflow: two settings, one rule each, and the memory budget that bounds
 * the network's share. Nothing else in the code sizes batches.
 *
 * <ul>
 *   <li><b>Rows per network call</b> (B): every call of the decoder network carries exactly B rows
 *       of one shape, the last call of a batch padded ({@link NetworkCalls}). An image's bytes
 *       depend on B. Set, it is used as it is; on "auto" a CPU takes the B measured fastest for
 *       the image's size class ({@link #cpuCallRows}) and a GPU as many rows as the memory budget
 *       holds, at most {@link #MAX_ROWS}.
 *   <li><b>Rows per task batch</b> (N): the images a task samples together through the whole
 *       schedule, in ceil(N g / B) calls per step (g = 2 at a guided step: each image's
 *       unconditional twin is a row too). Set, it is used as it is; on "auto" it is B. It decides
 *       speed and memory, never bytes.
 *   <li><b>Memory budget</b>: the bytes one call's rows may hold in the network (rows x the
 *       model's {@code bytesPerRow}). Set, it caps an automatic B on any device; on "auto" a GPU
 *       gives its tasks 40% of its memory, shared equally, and a CPU sets no cap (its B is
 *       measured).
 * </ul>
 *
 * @param taskRows N, or 0 for auto
 * @param callRows B, or 0 for auto
 * @param budgetBytes the memory budget, or 0 for auto
 */
public record Batching(int taskRows, int callRows, long budgetBytes) implements Serializable {
    public static final Batching AUTO = new Batching(0, 0, 0);
    /** The most rows an automatic B takes; a GPU loop in PyTorch runs 32 to 256. */
    public static final int MAX_ROWS = 256;
    /**
     * A GPU's memory share for its decode tasks on "auto": the rest is for the CUDA context,
     * libtorch's caching allocator and the RAPIDS Accelerator, which conf/spark-defaults-gpu.conf
     * holds to at most half.
     */
    static final double GPU_SHARE = 0.4;

    public Batching {
        if (taskRows < 0 || callRows < 0 || budgetBytes < 0) {
            throw new IllegalArgumentException("batching settings are 0 (auto) or positive: task rows " + taskRows
                    + ", rows per call " + callRows + ", memory budget " + budgetBytes + " bytes");
        }
    }

    /** What a batch of h x w images is decoded with: N images per task batch, B rows per network call. */
    public record Plan(int taskRows, int callRows) {
        public Plan {
            if (taskRows < 1 || callRows < 1) {
                throw new IllegalArgumentException("a plan has at least one row per task batch and per call: "
                        + taskRows + ", " + callRows);
            }
        }

        /**
         * What a task of {@code rows} rows (of one shape) sends per unguided step: task batches of N,
         * the last one shorter, each in calls of B with its last call padded. A guided step sends
         * each row twice, in ceil(2n / B) calls, so its padding is at most twice this.
         */
        public Traffic traffic(long rows) {
            long full = rows / taskRows;
            long rest = rows % taskRows;
            return new Traffic(rows, full * sent(taskRows) + sent(rest));
        }

        /** Rows a task batch of n rows sends per step: whole calls of B. */
        long sent(long n) {
            return (n + callRows - 1) / callRows * callRows;
        }

        /**
         * The rows that fill the calls of a task batch: N when N is a multiple of B (then N rows
         * leave no call short), else B. Tasks whose rows are multiples of it pad nothing.
         */
        public int unit() {
            return taskRows % callRows == 0 ? taskRows : callRows;
        }
    }

    /**
     * Rows given to the network per step and rows sent for them, padding included
     * (summary.json's rows_sent, rows_padded and padding_fraction).
     */
    public record Traffic(long rows, long sent) implements Serializable {
        public static final Traffic NONE = new Traffic(0, 0);

        public Traffic {
            if (rows < 0 || sent < rows) {
                throw new IllegalArgumentException("rows sent " + sent + " cannot be fewer than the rows " + rows);
            }
        }

        public long padded() {
            return sent - rows;
        }

        /** Padded rows / rows sent, 0 when nothing was sent. */
        public double paddingFraction() {
            return sent == 0 ? 0 : (double) padded() / sent;
        }

        public Traffic plus(Traffic o) {
            return new Traffic(rows + o.rows, sent + o.sent);
        }
    }

    /** Where the network runs, as far as batching is concerned. */
    public record Device(boolean gpu, long memoryBytes, int tasksSharing) {
        public static final Device CPU = new Device(false, 0, 1);

        public static Device gpu(long memoryBytes, int tasksSharing) {
            return new Device(true, memoryBytes, Math.max(1, tasksSharing));
        }
    }

    /** The plan for a batch of h x w images, each row adding {@code bytesPerRow} to a call. */
    public Plan plan(Device device, int h, int w, long bytesPerRow) {
        int b = callRows(device, h, w, bytesPerRow);
        return new Plan(taskRows > 0 ? taskRows : b, b);
    }

    /** B for h x w images on {@code device}: the set value, else the CPU's measured table or the GPU's budget. */
    public int callRows(Device device, int h, int w, long bytesPerRow) {
        if (callRows > 0) {
            return callRows;
        }
        long budget = budget(device);
        int fits = budget == 0 ? MAX_ROWS : (int) Math.max(1, Math.min(MAX_ROWS, budget / Math.max(1, bytesPerRow)));
        return device.gpu() ? fits : Math.min(cpuCallRows(h, w), fits);
    }

    /** The memory budget in force on {@code device}: the set one, else a GPU's share, else none (0). */
    public long budget(Device device) {
        if (budgetBytes > 0) {
            return budgetBytes;
        }
        return device.gpu() ? (long) (GPU_SHARE * device.memoryBytes() / device.tasksSharing()) : 0;
    }

    /**
     * The rows per call that decoded fastest on a CPU, by the image's pixel count. Measured with
     * {@code bin/mipflow bench --sweep 1,2,4,8,16 --sweep-only} on the 2-core development machine
     * (AMD EPYC Zen 4; shipped model, bf16/nhwc and fp32/nhwc): see docs/benchmarks.md, "Rows per
     * network call". A
     * fixed table, not a measurement at start-up, because B decides an image's bytes: the same
     * command must give the same images on every run.
     */
    public static int cpuCallRows(int h, int w) {
        long px = (long) h * w;
        for (int i = 0; i < CPU_PIXELS.length; i++) {
            if (px <= CPU_PIXELS[i]) {
                return CPU_ROWS[i];
            }
        }
        return CPU_ROWS[CPU_ROWS.length - 1];
    }

    private static final long[] CPU_PIXELS = {64 * 64, 128 * 128, 256 * 256};
    /** One more entry than CPU_PIXELS: the last is for every larger image. */
    private static final int[] CPU_ROWS = {8, 4, 2, 1};

    /** The CPU table in words, for logs and summary.json: "8 up to 64x64, 4 up to 128x128, ...". */
    public static String describeCpuTable() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < CPU_PIXELS.length; i++) {
            int side = (int) Math.round(Math.sqrt(CPU_PIXELS[i]));
            s.append(String.format(Locale.ROOT, "%d up to %dx%d, ", CPU_ROWS[i], side, side));
        }
        return s.append(CPU_ROWS[CPU_ROWS.length - 1]).append(" above").toString();
    }

    /** "auto" or the number, for a setting in reports. */
    public static String label(int value) {
        return value > 0 ? Integer.toString(value) : "auto";
    }

    /** "rows per call auto, task batch auto, memory budget auto", as the driver prints the settings. */
    public String describe() {
        return "rows per network call " + label(callRows) + ", rows per task batch " + label(taskRows)
                + ", memory budget " + (budgetBytes > 0 ? (budgetBytes >> 20) + " MiB" : "auto");
    }

    public Batching withTaskRows(int n) {
        return new Batching(n, callRows, budgetBytes);
    }

    /** A rule for one loaded decoder: the plan of each batch from its image size. */
    @FunctionalInterface
    public interface Rule {
        Plan forImage(int height, int width);

        /** N and B fixed whatever the image. */
        static Rule fixed(int taskRows, int callRows) {
            Plan p = new Plan(taskRows, callRows);
            return (h, w) -> p;
        }
    }
}
