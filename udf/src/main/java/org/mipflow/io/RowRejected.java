package org.mipflow.io;

/** The reason an input row cannot be decoded, worded for the errors output. */
public class RowRejected extends Exception {
    public RowRejected(String reason) {
        super(reason);
    }
}
