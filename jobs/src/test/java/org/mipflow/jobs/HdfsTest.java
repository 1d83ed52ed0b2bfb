package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.encode.EncodeJob;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/** Latents on a real HDFS (MiniDFSCluster), decoded by Spark, outputs and summary written back to HDFS. */
class HdfsTest {
    @Test
    void decodesFromAndToHdfs(@TempDir Path tmp) throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, tmp.resolve("dfs").toString());
        MiniDFSCluster dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        SparkSession spark = null;
        try {
            dfs.waitActive();
            String root = dfs.getFileSystem().getUri().toString();
            spark = SparkTestSession.builder("local[2]", "mipflow-hdfs")
                    .config("spark.hadoop.fs.defaultFS", root)
                    .getOrCreate();
            Path model = TestModels.tiny(tmp.resolve("model"));
            DecodeSettings s = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.ONESTEP, 2,
                    new int[] {1, 1, 1}), 2, 3, 1, null, RowLimits.DEFAULT, root + "/pngs");
            String latents = root + "/data/latents";
            EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toUri().toString()), latents, s, 64, 2);
            String out = root + "/data/decoded";
            DecodeJob.Summary sm = DecodeJob.run(spark, List.of(latents), out, s);
            assertEquals(3, sm.decoded());
            assertEquals(3, spark.read().parquet(out + "/images").count());
            FileSystem fs = dfs.getFileSystem();
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path("/data/decoded/summary.json")));
            assertEquals(3, fs.listStatus(new org.apache.hadoop.fs.Path("/pngs")).length);
        } finally {
            if (spark != null) {
                spark.stop();
            }
            dfs.shutdown();
        }
    }
}
