package org.mipflow.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.mipflow.model.DecoderModel;
import org.mipflow.model.GpuMemory;
import org.mipflow.model.Models;
import org.mipflow.sampling.Batching;
import org.mipflow.schedule.StageSchedule;

/** GPU addresses of every form Spark's discovery scripts give, and the GPU budget asked for once. */
class GpuAddressTest {

    @Test
    void indices() {
        assertEquals(0, GpuAddress.ordinal("0", null, 1));
        assertEquals(3, GpuAddress.ordinal(" 3 ", null, 8));
        // CUDA_VISIBLE_DEVICES=4,5: physical GPU 5 is CUDA device 1 in this process
        assertEquals(1, GpuAddress.ordinal("5", "4,5", 2));
        // a container that sees only its own GPU, addressed by its index on the node
        assertEquals(0, GpuAddress.ordinal("0", "", 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuAddress.ordinal("2", null, 2));
        assertTrue(e.getMessage().contains("sees 2 CUDA device"), e.getMessage());
    }

    @Test
    void uuidsAndMigNames() {
        String gpu = "GPU-8f3c2a6e-1b7d-4c11-9a6f-0d3e5b7c9a21";
        String mig = "MIG-4a1b7c2d-9e8f-5a6b-8c7d-2e1f0a9b8c7d";
        assertEquals(1, GpuAddress.ordinal(gpu, "GPU-aaaaaaaa-0000-0000-0000-000000000000," + gpu, 2));
        assertEquals(0, GpuAddress.ordinal(mig, mig, 1));
        assertEquals(0, GpuAddress.ordinal(mig, null, 1), "the one device this process sees");
        assertEquals(2, GpuAddress.ordinal("MIG-GPU-8f3c2a6e/1/0", "0:0,0:1,MIG-GPU-8f3c2a6e/1/0", 3));
        assertEquals(1, GpuAddress.ordinal("0:1", "0:0,0:1", 2));
        assertEquals(0, GpuAddress.ordinal("1:0", null, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuAddress.ordinal(gpu, null, 4));
        assertTrue(e.getMessage().contains("not in CUDA_VISIBLE_DEVICES"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuAddress.ordinal("gpu zero", null, 1));
        assertTrue(e.getMessage().startsWith("GPU address 'gpu zero'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GpuAddress.ordinal("99999999999", null, 1));
    }

    /** A decoder on a GPU as batching sees it (no network: nothing is decoded). */
    private static DecoderModel onGpu() {
        return new DecoderModel() {
            @Override
            public StageSchedule schedule() {
                return StageSchedule.DEFAULT;
            }

            @Override
            public int latentChannels() {
                return 4;
            }

            @Override
            public int downsample() {
                return 8;
            }

            @Override
            public boolean hasStudent() {
                return false;
            }

            @Override
            public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
                    boolean student) {
                throw new UnsupportedOperationException("batching only");
            }

            @Override
            public long bytesPerRow(int h, int w) {
                return 100L << 20;
            }

            @Override
            public Device device() {
                return Device.gpu(0);
            }

            @Override
            public String numericsLabel() {
                return "test";
            }

            @Override
            public void close() {}
        };
    }

    @Test
    void budgetAskedOncePerExecutorAndNeverWithRowsPerCall() {
        AtomicInteger asked = new AtomicInteger();
        GpuMemory memory = new GpuMemory(d -> {
            asked.incrementAndGet();
            return 40L << 30;
        });
        DecoderModel m = onGpu();
        for (int task = 0; task < 10; task++) {
            Batching.Plan p = Models.batchingRule(new Batching(0, 32, 0), m, 4, memory).forImage(256, 256);
            assertEquals(new Batching.Plan(32, 32), p);
        }
        assertEquals(0, asked.get(), "a set rows-per-call asks nothing of the GPU");
        for (int task = 0; task < 10; task++) {
            // 40% of 40 GiB shared by 4 tasks: 4 GiB, 40 rows of 100 MiB
            assertEquals(new Batching.Plan(40, 40),
                    Models.batchingRule(Batching.AUTO, m, 4, memory).forImage(256, 256));
        }
        assertEquals(1, asked.get(), "asked once for all tasks of the executor");
    }
}
