package org.mipflow.jobs.decode;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.mipflow.spark.DecodeSchemas;

/**
 * Ids that occur more than once in the whole input: every row of them goes to errors, since no
 * row can be told to be the right one. Found by one aggregation over the ids of every good shard
 * (read by the scan; committed shards included, so a resumed run decides as the first did), kept in storage,
 * and joined onto each wave; the driver never holds them (Spark broadcasts them to the join when
 * they are few, and shuffles when they are many).
 */
final class Duplicates {
    private static final String DUP_ID = "_mipflow_dup_id";
    private static final String DUP_COUNT = "_mipflow_dup_count";

    /** How many ids are duplicated and how many rows carry them. */
    record Counts(long ids, long rows) {}

    private final Dataset<Row> ids;
    private final Counts counts;

    private Duplicates(Dataset<Row> ids, Counts counts) {
        this.ids = ids;
        this.counts = counts;
    }

    private static Dataset<Row> grouped(Dataset<Row> ids) {
        return ids.select(col("id").as(DUP_ID)).groupBy(DUP_ID).agg(functions.count(lit(1)).as(DUP_COUNT)).filter(col(DUP_COUNT).gt(1))
                .filter(col(DUP_ID).isNotNull());
    }

    private static Counts counts(Dataset<Row> dups) {
        Row r = dups.agg(functions.count(lit(1)), sum(col(DUP_COUNT))).first();
        return new Counts(r.getLong(0), r.isNullAt(1) ? 0 : r.getLong(1));
    }

    /** Only counts them (dry run): nothing is written. */
    static Counts count(SparkSession spark, Dataset<Row> ids) {
        spark.sparkContext().setJobDescription("mipflow count duplicate ids");
        return counts(grouped(ids));
    }

    /** Finds them and stores them under {@code dir} for the waves' joins. */
    static Duplicates find(SparkSession spark, Dataset<Row> ids, String dir) {
        spark.sparkContext().setJobDescription("mipflow find duplicate ids");
        grouped(ids).write().mode(SaveMode.Overwrite).parquet(dir);
        Dataset<Row> stored = spark.read().parquet(dir);
        return new Duplicates(stored, counts(stored));
    }

    Counts counts() {
        return counts;
    }

    /**
     * The wave's rows with {@link DecodeSchemas#REJECT} set on the rows of duplicated ids; without
     * any duplicate the rows are left as they are (no join, no shuffle).
     */
    Dataset<Row> mark(Dataset<Row> rows, String idColumn) {
        if (counts.ids() == 0) {
            return rows.withColumn(DecodeSchemas.REJECT, lit(null).cast("string"));
        }
        return rows.join(ids, rows.col(idColumn).equalTo(ids.col(DUP_ID)), "left")
                .withColumn(DecodeSchemas.REJECT, when(col(DUP_COUNT).isNotNull(),
                        concat(lit("id occurs "), col(DUP_COUNT).cast("string"), lit(" times in the input"))))
                .drop(DUP_ID, DUP_COUNT);
    }
}
