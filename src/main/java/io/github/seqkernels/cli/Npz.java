package io.github.seqkernels.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpzEntry;
import org.jetbrains.bio.npy.NpzFile;

/**
 * Reading and writing {@code .npz} archives (through the org.jetbrains.bio npy library), with the
 * CLI's rules: arrays are looked up by their exact names, dtypes are checked with messages that
 * name the array, and an output archive appears only once it is complete.
 */
final class Npz {
  private final Path path;
  private final Map<String, NpyArray> arrays = new LinkedHashMap<>();

  private Npz(Path path) {
    this.path = path;
  }

  static Npz read(Path path) {
    if (!Files.exists(path)) throw new IllegalArgumentException("--in: no such file " + path);
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException("--in: " + path + " is not a regular file");
    }
    Npz npz = new Npz(path);
    try (NpzFile.Reader r = NpzFile.read(path)) {
      for (NpzEntry e : r.introspect()) {
        try {
          npz.arrays.put(e.getName(), r.get(e.getName(), 1 << 20));
        } catch (Exception ex) {
          throw new IllegalArgumentException(
              "--in: array '"
                  + e.getName()
                  + "' in "
                  + path
                  + " cannot be read ("
                  + ex.getMessage()
                  + "); arrays must be C-ordered numeric or"
                  + " bool numpy arrays of rank >= 1");
        }
      }
    } catch (Exception e) { // the Kotlin library throws ZipException without declaring it
      if (e instanceof IllegalArgumentException iae && iae.getMessage().startsWith("--in:")) {
        throw iae;
      }
      throw new IllegalArgumentException(
          "--in: " + path + " is not a readable .npz archive (" + e.getMessage() + ")", e);
    }
    return npz;
  }

  /** Refuses arrays the operator does not read, so a misspelt name cannot be ignored silently. */
  void requireOnly(String op, List<String> known) {
    for (String name : arrays.keySet()) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            path.getFileName()
                + ": unknown array '"
                + name
                + "' ("
                + op
                + " reads "
                + String.join(", ", known)
                + ")");
      }
    }
  }

  boolean has(String name) {
    return arrays.containsKey(name);
  }

  /** The array names, in file order. */
  List<String> names() {
    return List.copyOf(arrays.keySet());
  }

  private NpyArray get(String name) {
    NpyArray a = arrays.get(name);
    if (a == null) {
      throw new IllegalArgumentException(
          path.getFileName()
              + ": missing array '"
              + name
              + "' (has: "
              + String.join(", ", arrays.keySet())
              + ")");
    }
    return a;
  }

  long[] shape(String name) {
    int[] s = get(name).getShape();
    long[] l = new long[s.length];
    for (int i = 0; i < s.length; i++) l[i] = s[i];
    return l;
  }

  float[] floats(String name) {
    Object data = get(name).getData();
    if (data instanceof float[] f) return f;
    throw new IllegalArgumentException(name + ": dtype must be float32, got " + dtype(data));
  }

  int[] ints(String name) {
    Object data = get(name).getData();
    if (data instanceof int[] i) return i;
    if (data instanceof long[] l) {
      int[] out = new int[l.length];
      for (int i = 0; i < l.length; i++) {
        if (l[i] != (int) l[i]) {
          throw new IllegalArgumentException(name + "[" + i + "] = " + l[i] + " exceeds int32");
        }
        out[i] = (int) l[i];
      }
      return out;
    }
    throw new IllegalArgumentException(name + ": dtype must be int32 or int64, got " + dtype(data));
  }

  boolean[] bools(String name) {
    Object data = get(name).getData();
    if (data instanceof boolean[] b) return b;
    if (data instanceof byte[] by) {
      boolean[] out = new boolean[by.length];
      for (int i = 0; i < by.length; i++) out[i] = by[i] != 0;
      return out;
    }
    throw new IllegalArgumentException(
        name + ": dtype must be bool (or uint8), got " + dtype(data));
  }

  private static String dtype(Object data) {
    return switch (data) {
      case double[] x -> "float64";
      case float[] x -> "float32";
      case long[] x -> "int64";
      case int[] x -> "int32";
      case short[] x -> "int16";
      case byte[] x -> "int8 or uint8";
      case boolean[] x -> "bool";
      case String[] x -> "str";
      default -> data.getClass().getSimpleName();
    };
  }

  /** A named float32 array to write. */
  record Out(String name, float[] data, long[] shape) {}

  /**
   * Writes the arrays to a temporary file beside {@code path} and renames it into place, so a
   * failed run never leaves a partial or stale-looking archive behind.
   */
  static void write(Path path, List<Out> outs) {
    Path dir = path.toAbsolutePath().getParent();
    // Not Files.createTempFile: its 0600 mode would stick to the renamed file; createFile
    // applies the user's umask like any other new file.
    Path tmp = dir.resolve("." + path.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(tmp);
      try (NpzFile.Writer w = NpzFile.write(tmp, false)) {
        for (Out o : outs) {
          int[] shape = new int[o.shape.length];
          for (int i = 0; i < shape.length; i++) shape[i] = Math.toIntExact(o.shape[i]);
          w.write(o.name, o.data, shape);
        }
      }
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--out: cannot write "
              + path
              + " ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")",
          e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort: the original error is the one to report
        }
      }
    }
  }

  /**
   * Checks an output path before any work: its directory exists, it is not a directory, and it is
   * not the input file (which a failed run would have destroyed).
   */
  static void checkOutput(Path in, Path out) {
    checkOutput(out);
    try {
      if (Files.exists(out) && Files.isSameFile(in, out)) {
        throw new IllegalArgumentException("--out: must not be the input file " + in);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--out: cannot check " + out + " (" + e.getMessage() + ")", e);
    }
  }

  /** Checks an output path before any work: its directory exists and it is not a directory. */
  static void checkOutput(Path out) {
    Path dir = out.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--out: directory " + dir + " does not exist");
    }
    if (Files.isDirectory(out)) {
      throw new IllegalArgumentException("--out: " + out + " is a directory");
    }
  }

  @Override
  public String toString() {
    return arrays.entrySet().stream()
        .map(e -> e.getKey() + java.util.Arrays.toString(e.getValue().getShape()))
        .collect(Collectors.joining(", "));
  }
}
