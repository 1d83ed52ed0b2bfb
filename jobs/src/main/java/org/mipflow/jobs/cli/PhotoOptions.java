package org.mipflow.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --photos}, {@code --list}: the photos {@code scripts/fetch-photos.sh} fetched, and which of
 * them (a list in {@code data/lists/}, names relative to the directory).
 */
public record PhotoOptions(Path photos, Path list) {
    public static final String TRAIN_LIST = "data/lists/photos-train.lst";
    public static final String DEV_LIST = "data/lists/photos-dev.lst";

    public static List<Options.Spec> specs(String defaultList, String listHelp) {
        return List.of(
                Options.Spec.value("photos", "DIR", "data/photos", "directory filled by scripts/fetch-photos.sh"),
                Options.Spec.value("list", "FILE", defaultList, listHelp));
    }

    /** Both must exist: the directory is filled by scripts/fetch-photos.sh, the list is in the repository. */
    public static PhotoOptions parse(Options o) throws UsageException {
        Path photos = o.path("photos");
        if (!Files.isDirectory(photos)) {
            throw new UsageException("photo directory " + photos + " does not exist; run scripts/fetch-photos.sh first");
        }
        Path list = o.path("list");
        if (!Files.isReadable(list)) {
            throw new UsageException("photo list " + list + " cannot be read");
        }
        return new PhotoOptions(photos, list);
    }
}
