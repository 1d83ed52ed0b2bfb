package org.mipflow.jobs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Samples this process's resident set size while a measured section runs (libtorch memory is native). */
final class RssSampler implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long peakKb;

    RssSampler() {
        thread = new Thread(() -> {
            while (running) {
                peakKb = Math.max(peakKb, rssKb());
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rss-sampler");
        thread.setDaemon(true);
        peakKb = rssKb();
        thread.start();
    }

    static long rssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    long peakMb() {
        return peakKb / 1024;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        peakKb = Math.max(peakKb, rssKb());
    }
}
