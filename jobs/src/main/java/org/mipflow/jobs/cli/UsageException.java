package org.mipflow.jobs.cli;

/** A command-line mistake or an unusable input: printed as one line, exit code 2. */
public class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
