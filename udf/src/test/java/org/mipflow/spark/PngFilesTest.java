package org.mipflow.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ids that try to escape --png-dir stay inside it. */
class PngFilesTest {
    @Test
    void hostileIdsStayInsideTheDirectory(@TempDir Path dir) throws Exception {
        String[] ids = {"../x", "/etc/passwd", "a".repeat(300), "Ünïcödé/ひらがな", "..", ".", "a/../../b", "x\u0000y"};
        for (String id : ids) {
            String name = PngFiles.fileName(id);
            assertTrue(name.matches("[A-Za-z0-9_-]{0,80}-[0-9a-f]{10}\\.png"), name);
            PngFiles.write(dir.toString(), id, new byte[] {1, 2, 3});
        }
        try (var s = Files.list(dir)) {
            // the PNGs and nothing else: no checksum (.crc) sibling beside each
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            assertEquals(ids.length, names.size(), names.toString());
            assertTrue(names.stream().allMatch(n -> n.endsWith(".png")), names.toString());
        }
        try (var s = Files.walk(dir)) {
            assertTrue(s.allMatch(p -> p.normalize().startsWith(dir)));
        }
        assertNotEquals(PngFiles.fileName("a/b"), PngFiles.fileName("a_b"));
    }
}
