package org.mipflow.sampling;

import org.mipflow.io.LatentSpec;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.ScheduleConvention;
import org.mipflow.schedule.StageSchedule;

/**
 * "Velocity of x at time t given z" on plain arrays: the one thing the samplers need from a
 * network. Implemented by the DJL-trained model and by TorchScript exports; tests use analytic
 * fields. Implementations must be safe to call from several task threads at once.
 */
public interface VelocityModel {

    StageSchedule schedule();

    /** How the model was trained to be stepped; Mipflow's native convention unless it says otherwise. */
    default ScheduleConvention convention() {
        return ScheduleConvention.NATIVE;
    }

    /** The steps of this model's schedule (grids, network times, the Euler step, the jump). */
    default FlowScheduler scheduler() {
        return new FlowScheduler(schedule(), convention());
    }

    /** Classifier-free guidance the model was trained for, or null (no null condition). */
    default Guidance guidance() {
        return null;
    }

    /** What the model takes as its latent. */
    default LatentSpec latent() {
        return new LatentSpec.Grid(latentChannels(), downsample(), latentSideMultiple());
    }

    /** The sampling modes the model was trained for. */
    default java.util.Set<SamplingMode> modes() {
        return java.util.EnumSet.allOf(SamplingMode.class);
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
     * @return the network's velocity, [n,3,h,w]: dx/du of the stage or dx/dt as {@link #convention} says
     */
    float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType, boolean student);
}
