package org.mipflow.model;

import org.mipflow.sampling.VelocityModel;

/** A loaded decoder of either format: what decode, bench and audit hold and close. */
public interface DecoderModel extends VelocityModel, AutoCloseable {
    @Override
    void close();
}
