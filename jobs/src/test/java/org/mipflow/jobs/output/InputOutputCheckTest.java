package org.mipflow.jobs.output;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.mipflow.jobs.cli.UsageException;

class InputOutputCheckTest {
    static final Configuration CONF = new Configuration();

    static String refusal(String in, String out) {
        return assertThrows(UsageException.class, () -> InputOutputCheck.check(List.of("/other", in), out, CONF))
                .getMessage();
    }

    @Test
    void equalInsideAndContainingAreRefused() {
        assertTrue(refusal("/data/in", "/data/in/").contains("is the input /data/in"));
        assertTrue(refusal("/data/in", "file:///data/in/out").contains("is inside the input"));
        assertTrue(refusal("/data/in/part-0.parquet", "/data").contains("contains the input"));
        assertTrue(refusal("/data/in", "/data/x/../in/o").contains("is inside the input"));
        // A glob is compared through its fixed part: /data/* could match the output.
        assertTrue(refusal("/data/*/latents", "/data/out").contains("is inside the input /data/*/latents"));
    }

    @Test
    void siblingsAndOtherStoresAreAccepted() {
        // Component boundaries, not string prefixes.
        assertDoesNotThrow(() -> InputOutputCheck.check(List.of("/data/in"), "/data/input", CONF));
        assertDoesNotThrow(() -> InputOutputCheck.check(List.of("/data/in"), "/data/i", CONF));
        assertDoesNotThrow(() -> InputOutputCheck.check(List.of("/data/in/*.parquet"), "/data/out", CONF));
        assertDoesNotThrow(() -> InputOutputCheck.check(List.of("hdfs://nn:8020/data/in"), "/data/in/out", CONF));
    }
}
