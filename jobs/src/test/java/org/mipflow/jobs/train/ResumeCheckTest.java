package org.mipflow.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResumeCheckTest {
    private static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    @Test
    void settingsMustMatchButTheRunsCountsMayNot() {
        JsonObject was = json("{\"command\":\"a\",\"steps\":200,\"wallSeconds\":90,\"threads\":2,\"crop\":64,"
                + "\"learningRate\":0.0005,\"initFrom\":{\"sha256\":{\"decoder.params\":\"x\"},\"training\":{\"steps\":4000}}}");
        JsonObject now = json("{\"command\":\"b\",\"steps\":0,\"wallSeconds\":0,\"threads\":1,\"crop\":64,"
                + "\"learningRate\":5e-4,\"initFrom\":{\"sha256\":{\"decoder.params\":\"x\"},\"training\":{\"steps\":4000}}}");
        assertEquals(List.of(), ResumeCheck.differences(was, now));
        now.getAsJsonObject("initFrom").getAsJsonObject("sha256").addProperty("decoder.params", "y");
        now.addProperty("crop", 128);
        now.add("distillation", json("{\"seed\":5,\"teacherSha256\":{\"decoder.params\":\"y\"}}"));
        was.add("distillation", json("{\"seed\":6,\"teacherSha256\":{\"decoder.params\":\"x\"}}"));
        assertEquals(List.of("initFrom: the checkpoint started from another --init model",
                "distillation.teacherSha256: the checkpoint was distilled from another teacher",
                "crop: checkpoint 64, this run 128", "distillation.seed: checkpoint 6, this run 5"),
                ResumeCheck.differences(was, now));
    }

    @Test
    void aFieldOnlyOneRecordHasIsNotCompared() {
        assertEquals(List.of(), ResumeCheck.differences(json("{\"crop\":64}"), json("{\"crop\":64,\"ssimWeight\":0.0}")));
    }

    @Test
    void theResumedRunRecordsBothCommands() {
        assertEquals("a && b", ResumeCheck.commandChain(json("{\"command\":\"a\"}"), "b"));
        assertEquals("b", ResumeCheck.commandChain(json("{}"), "b"));
    }
}
