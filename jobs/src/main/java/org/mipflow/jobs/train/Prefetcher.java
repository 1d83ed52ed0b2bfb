package org.mipflow.jobs.train;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.IntFunction;

/**
 * Makes the batches of steps first..last-1 on a daemon thread, a few ahead of the trainer, so
 * that data preparation never starves it. Each batch depends only on its step number.
 */
final class Prefetcher<T> implements AutoCloseable {
    private final BlockingQueue<T> queue = new ArrayBlockingQueue<>(3);
    private final Thread thread;

    Prefetcher(String name, int first, int last, IntFunction<T> make) {
        thread = new Thread(() -> {
            try {
                for (int s = first; s < last; s++) {
                    queue.put(make.apply(s));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }

    T take() throws InterruptedException {
        return queue.take();
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
