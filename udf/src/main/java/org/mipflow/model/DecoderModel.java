package org.mipflow.model;

import org.mipflow.sampling.VelocityModel;

/** A loaded decoder of either format: what decode, bench and audit hold and close. */
public interface DecoderModel extends VelocityModel, AutoCloseable {
    /** Peak bytes one h x w image adds to a forward pass ({@link BatchBudget} sizes batches by it). */
    long bytesPerImage(int h, int w);

    /** What the network computes in, for logs and reports. */
    String numericsLabel();

    @Override
    void close();
}
