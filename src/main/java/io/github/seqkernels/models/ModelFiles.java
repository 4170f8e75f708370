package io.github.seqkernels.models;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where model files are found: an explicit path, else the cache directory that {@code
 * ci/fetch-models} fills, {@code $SEQKERNELS_MODELS} or {@code ~/.cache/seqkernels/models}. The
 * files are not in the repository; a missing one is reported with the command that fetches it.
 */
public final class ModelFiles {
  private ModelFiles() {}

  /** The cache directory: {@code $SEQKERNELS_MODELS}, else {@code ~/.cache/seqkernels/models}. */
  public static Path cacheDir() {
    String env = System.getenv("SEQKERNELS_MODELS");
    if (env != null && !env.isEmpty()) return Path.of(env);
    return Path.of(System.getProperty("user.home"), ".cache", "seqkernels", "models");
  }

  /**
   * {@code explicit} when it is not null (it must be a readable file), else {@code fileName} in
   * {@link #cacheDir()}. Throws {@link IllegalArgumentException} with one line that says how to get
   * the file.
   */
  public static Path find(Path explicit, String fileName) {
    if (explicit != null) {
      if (!Files.isRegularFile(explicit) || !Files.isReadable(explicit)) {
        throw new IllegalArgumentException("model: no readable file at " + explicit);
      }
      return explicit;
    }
    Path p = cacheDir().resolve(fileName);
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(
          "model: "
              + fileName
              + " is not in "
              + cacheDir()
              + "; run ci/fetch-models to fetch it, or give its path (the CLI's --model)");
    }
    return p;
  }
}
