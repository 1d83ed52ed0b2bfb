package org.mipflow.io;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;

/**
 * Conversions between images and planar float arrays [3,h,w] in [-1,1], and antialiased
 * resizing. Pure Java, so encode, training and evaluation prepare pixels identically.
 */
public final class ImageOps {
    private ImageOps() {}

    /** RGB planes in [-1,1]; alpha is dropped, grey is expanded. */
    public static float[] toPlanar(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int n = w * h;
        float[] out = new float[3 * n];
        if (img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // getRGB treats Java's grey colour space as linear and converts it to sRGB, brightening
            // every mid-tone (128 comes out as 188); a grey PNG or JPEG stores display levels, as an
            // RGB one does, so the stored sample is the grey level.
            Raster r = img.getRaster();
            int max = (1 << img.getColorModel().getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = Math.round(row[x] * 255.0 / max) / 127.5f - 1f;
                    int i = y * w + x;
                    out[i] = v;
                    out[n + i] = v;
                    out[2 * n + i] = v;
                }
            }
            return out;
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < n; i++) {
            int p = argb[i];
            out[i] = ((p >> 16) & 255) / 127.5f - 1f;
            out[n + i] = ((p >> 8) & 255) / 127.5f - 1f;
            out[2 * n + i] = (p & 255) / 127.5f - 1f;
        }
        return out;
    }

    /** 8-bit value of a [-1,1] sample, rounded and clamped: the quantisation every output goes through. */
    public static int toByte(float v) {
        int q = Math.round((v + 1f) * 127.5f);
        return q < 0 ? 0 : Math.min(255, q);
    }

    public static BufferedImage fromPlanar(float[] planes, int offset, int h, int w) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int n = h * w;
        int[] rgb = new int[n];
        for (int i = 0; i < n; i++) {
            int r = toByte(planes[offset + i]);
            int g = toByte(planes[offset + n + i]);
            int b = toByte(planes[offset + 2 * n + i]);
            rgb[i] = (r << 16) | (g << 8) | b;
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    /** Quantises [-1,1] samples to the 8-bit grid and back, as writing and re-reading a PNG would. */
    public static float[] quantize(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = toByte(v[i]) / 127.5f - 1f;
        }
        return out;
    }

    /**
     * Bilinear resize without antialiasing, as PyTorch's {@code F.interpolate(x, size, mode="bilinear",
     * align_corners=False)}: output pixel i samples the input at (i + 0.5) * in / out - 0.5,
     * clamped at 0, from its two neighbours. This is the resize of pytorch-fid, so features of the
     * FID Inception network match those computed in PyTorch.
     */
    public static float[] bilinear(float[] src, int planes, int h, int w, int oh, int ow) {
        int[] y0 = new int[oh];
        int[] y1 = new int[oh];
        float[] fy = new float[oh];
        taps(h, oh, y0, y1, fy);
        int[] x0 = new int[ow];
        int[] x1 = new int[ow];
        float[] fx = new float[ow];
        taps(w, ow, x0, x1, fx);
        float[] out = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            int base = p * h * w;
            int obase = p * oh * ow;
            for (int i = 0; i < oh; i++) {
                int r0 = base + y0[i] * w;
                int r1 = base + y1[i] * w;
                float wy = fy[i];
                for (int j = 0; j < ow; j++) {
                    float wx = fx[j];
                    float top = (1 - wx) * src[r0 + x0[j]] + wx * src[r0 + x1[j]];
                    float bottom = (1 - wx) * src[r1 + x0[j]] + wx * src[r1 + x1[j]];
                    out[obase + i * ow + j] = (1 - wy) * top + wy * bottom;
                }
            }
        }
        return out;
    }

    private static void taps(int in, int out, int[] lo, int[] hi, float[] frac) {
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            float x = Math.max((i + 0.5f) * scale - 0.5f, 0f);
            int i0 = Math.min((int) x, in - 1);
            lo[i] = i0;
            hi[i] = Math.min(i0 + 1, in - 1);
            frac[i] = x - i0;
        }
    }

    /**
     * Separable resize with a triangle (bilinear) kernel widened by the scale factor when
     * shrinking, i.e. antialiased bilinear as in PIL's BILINEAR filter.
     */
    public static float[] resize(float[] src, int planes, int h, int w, int oh, int ow) {
        float[] tmp = new float[planes * h * ow];
        for (int p = 0; p < planes; p++) {
            resampleRows(src, p * h * w, w, h, tmp, p * h * ow, ow);
        }
        float[] out = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            resampleCols(tmp, p * h * ow, h, ow, out, p * oh * ow, oh);
        }
        return out;
    }

    private static void resampleRows(float[] src, int base, int inLen, int rows, float[] dst, int dbase, int outLen) {
        Kernel k = new Kernel(inLen, outLen);
        for (int r = 0; r < rows; r++) {
            int s = base + r * inLen;
            int d = dbase + r * outLen;
            for (int o = 0; o < outLen; o++) {
                double acc = 0;
                int first = k.first[o];
                double[] wts = k.weights[o];
                for (int j = 0; j < wts.length; j++) {
                    acc += wts[j] * src[s + first + j];
                }
                dst[d + o] = (float) acc;
            }
        }
    }

    private static void resampleCols(float[] src, int base, int inLen, int cols, float[] dst, int dbase, int outLen) {
        Kernel k = new Kernel(inLen, outLen);
        for (int o = 0; o < outLen; o++) {
            int first = k.first[o];
            double[] wts = k.weights[o];
            int d = dbase + o * cols;
            for (int c = 0; c < cols; c++) {
                double acc = 0;
                for (int j = 0; j < wts.length; j++) {
                    acc += wts[j] * src[base + (first + j) * cols + c];
                }
                dst[d + c] = (float) acc;
            }
        }
    }

    /** Normalised triangle-filter taps for each output sample. */
    private static final class Kernel {
        final int[] first;
        final double[][] weights;

        Kernel(int inLen, int outLen) {
            double scale = (double) inLen / outLen;
            double support = Math.max(1.0, scale);
            first = new int[outLen];
            weights = new double[outLen][];
            for (int o = 0; o < outLen; o++) {
                double center = (o + 0.5) * scale;
                int lo = Math.max(0, (int) Math.floor(center - support));
                int hi = Math.min(inLen - 1, (int) Math.ceil(center + support));
                double[] w = new double[hi - lo + 1];
                double sum = 0;
                for (int i = lo; i <= hi; i++) {
                    double x = Math.abs((i + 0.5 - center) / support);
                    double v = x < 1 ? 1 - x : 0;
                    w[i - lo] = v;
                    sum += v;
                }
                for (int i = 0; i < w.length; i++) {
                    w[i] /= sum;
                }
                first[o] = lo;
                weights[o] = w;
            }
        }
    }

    public static float[] crop(float[] src, int planes, int h, int w, int y0, int x0, int ch, int cw) {
        if (y0 < 0 || x0 < 0 || y0 + ch > h || x0 + cw > w) {
            throw new IllegalArgumentException("crop outside the image");
        }
        float[] out = new float[planes * ch * cw];
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < ch; y++) {
                System.arraycopy(src, p * h * w + (y0 + y) * w + x0, out, p * ch * cw + y * cw, cw);
            }
        }
        return out;
    }

    /** A planar RGB image with its size. */
    public record Planar(float[] data, int height, int width) {}

    /** Resizes so the shorter side is {@code side} (antialiased), then center-crops to side x side. */
    public static Planar shortSideCenterCrop(BufferedImage img, int side) {
        Planar r = shortSide(img, side);
        int nh = r.height();
        int nw = r.width();
        return new Planar(crop(r.data(), 3, nh, nw, (nh - side) / 2, (nw - side) / 2, side, side), side, side);
    }

    /** Resizes so the shorter side is {@code side}, keeping the aspect ratio. */
    public static Planar shortSide(BufferedImage img, int side) {
        float[] px = toPlanar(img);
        int h = img.getHeight();
        int w = img.getWidth();
        double s = (double) side / Math.min(h, w);
        int nh = Math.max(side, (int) Math.round(h * s));
        int nw = Math.max(side, (int) Math.round(w * s));
        return new Planar(resize(px, 3, h, w, nh, nw), nh, nw);
    }
}
