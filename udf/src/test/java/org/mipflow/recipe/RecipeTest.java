package org.mipflow.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mipflow.io.LatentSpec;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.Guidance;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.schedule.ScheduleConvention;
import org.mipflow.schedule.StageSchedule;

/** The one rule that resolves "auto" from what the executors declare, and the field-by-field comparison. */
class RecipeTest {
    static final DecoderFacts NATIVE = new DecoderFacts("mipflow", 8, 8, StageSchedule.DEFAULT, true, 32,
            new LatentSpec.Grid(8, 8, 4), Set.copyOf(SamplingMode.offered(true)), null,
            ScheduleConvention.NATIVE, null, Map.of("decoder.params", "aa"));
    static final DecoderFacts GUIDED = new DecoderFacts("torchscript", 8, 8, StageSchedule.DEFAULT, false, 0,
            new LatentSpec.Grid(8, 8, 4), Set.of(SamplingMode.MULTISCALE), new Guidance(new float[4], 2.5, 0.1, 0.9),
            ScheduleConvention.NATIVE, null, Map.of("teacher.pt", "bb"));
    static final DeviceDeclaration BF16_CPU = new DeviceDeclaration("0", false, true, "CPU has avx512_bf16", 0, 1);
    static final DeviceDeclaration PLAIN_CPU = new DeviceDeclaration("1", false, false, "CPU has neither", 0, 1);
    static final DeviceDeclaration GPU_24G = new DeviceDeclaration("2", true, true, "cc 86", 24L << 30, 1);
    static final DeviceDeclaration GPU_16G_2 = new DeviceDeclaration("3", true, true, "cc 80", 16L << 30, 2);

    static Recipe resolve(DecoderFacts facts, SamplerConfig s, NumericPath.Request n, Batching b,
            DeviceDeclaration... devices) {
        return Recipe.resolve(facts, s, 7, n, b, null, MetricSet.DEFAULT, null, 0, List.of(devices));
    }

    static final SamplerConfig ONESTEP = SamplerConfig.of(SamplingMode.ONESTEP, 3);

    @Test
    void autoNumericsAreBf16OnlyWhenEveryExecutorHasItNatively() {
        assertEquals("bf16/nhwc", resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU)
                .numerics().label());
        assertEquals("fp32/nhwc", resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU,
                PLAIN_CPU).numerics().label());
        assertEquals("bf16/nhwc", resolve(NATIVE, ONESTEP, new NumericPath.Request("bf16", "auto"), Batching.AUTO,
                BF16_CPU, PLAIN_CPU).numerics().label(), "a set precision is kept (the executor without it fails)");
        assertEquals("fp32/nchw", resolve(NATIVE, ONESTEP, new NumericPath.Request("auto", "nchw"), Batching.AUTO,
                BF16_CPU).numerics().label());
        Recipe ts = resolve(GUIDED, SamplerConfig.of(SamplingMode.MULTISCALE, 3), NumericPath.Request.AUTO,
                Batching.AUTO, BF16_CPU);
        assertNull(ts.numerics(), "a TorchScript export computes as exported");
        assertEquals(NumericPath.Request.AUTO, ts.numericsRequest());
    }

    @Test
    void autoRowsPerCallIsTheSmallestGpuBudgetOrTheCpuTable() {
        Recipe gpus = resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, Batching.AUTO, GPU_24G, GPU_16G_2);
        long smallest = Batching.AUTO.budget(GPU_16G_2.batchingDevice());
        assertEquals(new Recipe.CallRows(0, true, smallest), gpus.rowsPerCall());
        assertTrue(smallest < Batching.AUTO.budget(GPU_24G.batchingDevice()));
        long row = 100L << 20;
        assertEquals((int) (smallest / row), gpus.rowsPerCall().plan(0, 256, 256, row).callRows(),
                "every executor plans with the smallest budget");

        Recipe mixed = resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, Batching.AUTO, GPU_24G, PLAIN_CPU);
        assertEquals(new Recipe.CallRows(0, false, 0), mixed.rowsPerCall());
        assertEquals(Batching.cpuCallRows(64, 64), mixed.rowsPerCall().plan(0, 64, 64, row).callRows());

        Recipe capped = resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, new Batching(0, 0, 1L << 30), PLAIN_CPU);
        assertEquals(new Recipe.CallRows(0, false, 1L << 30), capped.rowsPerCall());
        assertEquals(Batching.cpuCallRows(64, 64), capped.rowsPerCall().plan(0, 64, 64, 1 << 20).callRows());
        assertEquals(2, capped.rowsPerCall().plan(0, 64, 64, 400L << 20).callRows(), "the set budget caps the table");

        Recipe fixed = resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, new Batching(5, 3, 0), GPU_24G);
        assertEquals(new Recipe.CallRows(3, false, 0), fixed.rowsPerCall());
        assertEquals(new Batching.Plan(5, 3), fixed.rowsPerCall().plan(5, 256, 256, row));
    }

    @Test
    void stepsAndGuidanceAreRecordedWhereTheyApply() {
        Recipe one = resolve(NATIVE, ONESTEP, NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU);
        assertEquals(0, one.steps());
        assertEquals(List.of(), one.stageSteps());
        assertEquals(1.0, one.guidanceScale());
        assertNull(one.guidanceInterval());
        Recipe full = resolve(NATIVE, new SamplerConfig(SamplingMode.FULL, 12, new int[] {1, 2, 3}),
                NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU);
        assertEquals(12, full.steps());
        assertEquals(List.of(), full.stageSteps());
        Recipe guided = resolve(GUIDED, new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {1, 2, 3}),
                NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU);
        assertEquals(List.of(1, 2, 3), guided.stageSteps());
        assertEquals(2.5, guided.guidanceScale());
        assertEquals(List.of(0.1, 0.9), guided.guidanceInterval());
        Recipe unguided = resolve(GUIDED, new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {1, 2, 3}, 0.5),
                NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU);
        assertEquals(1.0, unguided.guidanceScale(), "W <= 1 is unguided, whatever W");
        assertNull(unguided.guidanceInterval());

        assertEquals(List.of("guidance_interval (committed [0.1,0.9], now null)",
                "guidance_scale (committed 2.5, now 1.0)"), unguided.differences(guided.toJson()));
        assertEquals(List.of(), guided.differences(guided.toJson()));
        List<String> other = guided.differences(resolve(NATIVE, SamplerConfig.of(SamplingMode.MULTISCALE, 3)
                .withCfgScale(2.5), NumericPath.Request.AUTO, Batching.AUTO, BF16_CPU).toJson());
        assertTrue(other.contains("model_format (committed \"mipflow\", now \"torchscript\")"), other::toString);
        assertTrue(other.contains("model_sha256 (committed {\"decoder.params\":\"aa\"}, now {\"teacher.pt\":\"bb\"})"),
                other::toString);
    }
}
