package org.mipflow.model;

/** A model directory that is missing, corrupt or does not fit what the caller needs. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
