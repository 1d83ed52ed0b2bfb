package org.mipflow.model;

import org.mipflow.sampling.VelocityModel;

/** A loaded decoder of either format: what decode, bench and audit hold and close. */
public interface DecoderModel extends VelocityModel, AutoCloseable {
    /** Peak bytes one h x w row adds to a network call ({@link RowBytes}; the memory budget divides it). */
    long bytesPerRow(int h, int w);

    /** The device the network runs on. */
    ai.djl.Device device();

    /** What the network computes in, for logs and reports. */
    String numericsLabel();

    @Override
    void close();
}
