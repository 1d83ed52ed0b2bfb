package org.mipflow.sampling;

import org.mipflow.schedule.StageSchedule;

/**
 * "Velocity of x at time t given z" on plain arrays: the one thing the samplers need from a
 * network. Implemented by the DJL-trained model and by TorchScript exports; tests use analytic
 * fields. Implementations must be safe to call from several task threads at once.
 */
public interface VelocityModel {

    StageSchedule schedule();

    int latentChannels();

    /** Image side / latent side. */
    int downsample();

    /** True when a one-step student is available for {@link #velocity} with student = true. */
    boolean hasStudent();

    /**
     * @param x state [n,3,h,w], values around [-1,1]
     * @param z latents [n,C,h/f',w/f'] at their stored size; the model resizes them itself
     * @param t global flow time of every row
     * @param stageType 0..K-1 for pyramid stages, K for the single full-resolution flow
     * @param student use the one-step student instead of the teacher
     * @return velocity dx/du, [n,3,h,w]
     */
    float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType, boolean student);
}
