package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.sampling.Batching;

/**
 * The memory per network row that scripts/torch/row_memory.py (called by the export scripts) wrote
 * into the fixtures' model.json, read back, and the GPU's automatic B it gives for a budget.
 */
class RowMemoryTest {
    static final Path FIXTURE = Path.of("src/test/resources/torchscript");
    static final Path TOKENS = Path.of("src/test/resources/token-decoder/k3");
    static final long GIB = 1L << 30;

    @Test
    void theExportsFigureIsReadBack() {
        RowMemory m = TorchScriptManifest.read(FIXTURE).memory();
        // PyTorch's allocator peaks at 256 px: 24.0 MiB at one row, twice at two, four times at four
        assertEquals(new RowMemory(25165824, 36864, 256, 256), m);
        DecoderFacts facts = DecoderFacts.read(FIXTURE);
        assertEquals(25165824, facts.bytesPerRow(NumericPath.NATIVE, 256, 256));
        assertEquals(25165824 / 4, facts.bytesPerRow(NumericPath.NATIVE, 128, 128), "linear below the measured size");
        assertEquals(16L * 25165824, facts.bytesPerRow(NumericPath.NATIVE, 512, 512), "quadratic above it");
        RowMemory t = TorchScriptManifest.read(TOKENS).memory();
        assertEquals(64, t.height());
        assertTrue(t.bytesPerRow() > 1_000_000 && t.bytesPerRow() < 2_000_000, t.toString());
    }

    @Test
    void gpuBatchFromTheFigureAndTheBudget() {
        long row = DecoderFacts.read(FIXTURE).bytesPerRow(NumericPath.NATIVE, 256, 256);
        Batching.Device gpu = Batching.Device.gpu(80 * GIB, 4); // 40% of 80 GiB, 4 tasks: 8 GiB each
        assertEquals(0.4 * 80 * GIB / 4, Batching.AUTO.budget(gpu), 1);
        assertEquals(256, Batching.AUTO.callRows(gpu, 256, 256, row), "341 rows fit: capped at 256");
        assertEquals(170, new Batching(0, 0, 4 * GIB).callRows(gpu, 256, 256, row), "4 GiB / 24 MiB");
        long at512 = DecoderFacts.read(FIXTURE).bytesPerRow(NumericPath.NATIVE, 512, 512);
        assertEquals(10, new Batching(0, 0, 4 * GIB).callRows(gpu, 512, 512, at512));
        long token = DecoderFacts.read(TOKENS).bytesPerRow(NumericPath.NATIVE, 64, 64);
        assertEquals(3, new Batching(0, 0, 4L << 20).callRows(gpu, 64, 64, token), "4 MiB / 1.2 MiB");
    }

    /** Without the figure: 4 KiB per pixel up to 256 x 256, quadratic above; a bad figure is refused. */
    @Test
    void conservativeRuleWithoutTheFigure(@TempDir Path tmp) throws Exception {
        Path dir = copyFixture(tmp.resolve("plain"), null);
        assertNull(TorchScriptManifest.read(dir).memory());
        DecoderFacts facts = DecoderFacts.read(dir);
        assertEquals(4096L * 256 * 256, facts.bytesPerRow(NumericPath.NATIVE, 256, 256));
        assertEquals(4096L * 64 * 64, facts.bytesPerRow(NumericPath.NATIVE, 64, 64));
        assertEquals(4 * 4096L * 512 * 512, facts.bytesPerRow(NumericPath.NATIVE, 512, 512));
        assertEquals(16, new Batching(0, 0, 4 * GIB).callRows(Batching.Device.gpu(80 * GIB, 1), 256, 256,
                facts.bytesPerRow(NumericPath.NATIVE, 256, 256)), "4 GiB / 256 MiB");
        Path bad = copyFixture(tmp.resolve("bad"), "{\"bytesPerRow\": 0, \"height\": 256, \"width\": 256}");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchScriptManifest.read(bad));
        assertTrue(e.getMessage().contains("bytesPerRow must be positive"), e.getMessage());
        Path typo = copyFixture(tmp.resolve("typo"), "{\"bytesPerRows\": 5, \"height\": 256, \"width\": 256}");
        e = assertThrows(ModelFormatException.class, () -> TorchScriptManifest.read(typo));
        assertTrue(e.getMessage().contains("unknown field memory.bytesPerRows"), e.getMessage());
    }

    /** The fixture with model.json's "memory" replaced by {@code memory} (null: none). */
    private static Path copyFixture(Path dir, String memory) throws Exception {
        Files.createDirectories(dir);
        for (String f : new String[] {"teacher.pt", "student.pt"}) {
            Files.copy(FIXTURE.resolve(f), dir.resolve(f));
        }
        com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(
                Files.readString(FIXTURE.resolve("model.json"))).getAsJsonObject();
        o.remove("memory");
        if (memory != null) {
            o.add("memory", com.google.gson.JsonParser.parseString(memory));
        }
        Files.writeString(dir.resolve("model.json"), o.toString());
        return dir;
    }
}
