package org.mipflow.sampling;

import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.StageSchedule;

/**
 * "Velocity of x at time t given z" on plain arrays: the one thing the samplers need from a
 * network. Implemented by the DJL-trained model and by TorchScript exports; tests use analytic
 * fields. Implementations must be safe to call from several task threads at once.
 */
public interface VelocityModel {

    StageSchedule schedule();

    /** The steps of this model's schedule (grids, network times, the Euler step, the jump). */
    default FlowScheduler scheduler() {
        return new FlowScheduler(schedule());
    }

    int latentChannels();

    /** Image side / latent side. */
    int downsample();

    /**
     * Latent height and width must be multiples of this: each stage halves the side and the UNet
     * halves it twice more, so the coarsest stage (2 zh for K = 3) must stay divisible by 4.
     */
    default int latentSideMultiple() {
        return 1 << (schedule().stages() - 1);
    }

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
