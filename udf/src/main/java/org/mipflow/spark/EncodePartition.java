package org.mipflow.spark;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.model.MipflowModel;

/**
 * Encodes images into latents: each image is resized so its shorter side is {@code size}
 * (antialiased), center-cropped to size x size, encoded, and stored with that crop as the
 * PNG reference. Input rows: (id, image bytes); output rows follow the decode input contract,
 * plus an error column for images that could not be read.
 */
public final class EncodePartition implements MapPartitionsFunction<Row, Row> {
    /** The source image's WIDTHxHEIGHT, so the job can say which images were upscaled. */
    public static final String SOURCE_SIZE = "source_size";
    public static final StructType OUTPUT = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.StringType, false),
            DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("latent_c", DataTypes.IntegerType, true),
            DataTypes.createStructField("latent_h", DataTypes.IntegerType, true),
            DataTypes.createStructField("latent_w", DataTypes.IntegerType, true),
            DataTypes.createStructField("reference", DataTypes.BinaryType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true),
            DataTypes.createStructField(SOURCE_SIZE, DataTypes.StringType, true)));

    private final DecodeSettings settings;
    private final int size;

    public EncodePartition(DecodeSettings settings, int size) {
        this.settings = settings;
        this.size = size;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        MipflowModel model = ModelCache.getNative(settings);
        List<Row> out = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        List<float[]> pixels = new ArrayList<>();
        List<byte[]> refs = new ArrayList<>();
        List<String> sizes = new ArrayList<>();
        while (rows.hasNext()) {
            Row r = rows.next();
            String id = r.getString(0);
            try {
                BufferedImage img = ImageCodec.read((byte[]) r.get(1), settings.limits().maxReferencePixels());
                ImageOps.Planar p = ImageOps.shortSideCenterCrop(img, size);
                float[] q = ImageOps.quantize(p.data());
                ids.add(id);
                sizes.add(img.getWidth() + "x" + img.getHeight());
                pixels.add(q);
                refs.add(ImageCodec.png(ImageOps.fromPlanar(q, 0, size, size)));
            } catch (Exception e) {
                out.add(RowFactory.create(id, null, null, null, null, null, "cannot read image: " + e.getMessage(),
                        null));
            }
            if (ids.size() >= Math.max(1, settings.batching().taskRows()) || (!rows.hasNext() && !ids.isEmpty())) {
                flush(model, ids, pixels, refs, sizes, out);
            }
        }
        return out.iterator();
    }

    private void flush(MipflowModel model, List<String> ids, List<float[]> pixels, List<byte[]> refs,
            List<String> sizes, List<Row> out) {
        int n = ids.size();
        int px = 3 * size * size;
        float[] batch = new float[n * px];
        for (int i = 0; i < n; i++) {
            System.arraycopy(pixels.get(i), 0, batch, i * px, px);
        }
        float[] z = model.encode(batch, n, size, size);
        int c = model.latentChannels();
        int zs = size / model.downsample();
        int per = c * zs * zs;
        for (int i = 0; i < n; i++) {
            float[] zi = new float[per];
            System.arraycopy(z, i * per, zi, 0, per);
            out.add(RowFactory.create(ids.get(i), zi, c, zs, zs, refs.get(i), null, sizes.get(i)));
        }
        ids.clear();
        pixels.clear();
        refs.clear();
        sizes.clear();
    }
}
