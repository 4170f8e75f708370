package io.github.seqkernels.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the loader needs from a PTX text, read without a GPU: the ISA version in its header and each
 * entry's parameter list, so that a module newer than the driver (case L2) and a launch whose
 * arguments do not match the entry (case L3) are refused before the driver sees them.
 */
public final class Ptx {
  private static final Pattern VERSION = Pattern.compile("(?m)^\\s*\\.version\\s+(\\d+)\\.(\\d+)");
  private static final Pattern TARGET = Pattern.compile("(?m)^\\s*\\.target\\s+([\\w,\\s]+?)\\s*$");
  private static final Pattern ENTRY =
      Pattern.compile("\\.entry\\s+([\\w$]+)\\s*\\(([^)]*)\\)", Pattern.DOTALL);
  private static final Pattern PARAM =
      Pattern.compile(
          "\\.param\\s+(?:\\.align\\s+(\\d+)\\s+)?\\.(\\w+)\\s+([\\w$]+)(?:\\s*\\[(\\d+)\\])?");

  /** One {@code .param} of an entry: its PTX type (u32, f32, b8...) and size in bytes. */
  public record Param(String type, String name, int bytes) {}

  private final int major, minor;
  private final String target;
  private final Map<String, List<Param>> entries;

  private Ptx(int major, int minor, String target, Map<String, List<Param>> entries) {
    this.major = major;
    this.minor = minor;
    this.target = target;
    this.entries = entries;
  }

  public static Ptx parse(String text) {
    Matcher v = VERSION.matcher(text);
    if (!v.find()) throw new CudaLoadException(218, "PTX: no .version directive in the header");
    Matcher t = TARGET.matcher(text);
    String target = t.find() ? t.group(1).trim() : "";
    Map<String, List<Param>> entries = new LinkedHashMap<>();
    Matcher e = ENTRY.matcher(text);
    while (e.find()) {
      List<Param> params = new ArrayList<>();
      Matcher p = PARAM.matcher(e.group(2));
      while (p.find()) {
        String type = p.group(2);
        int bytes = typeBytes(type);
        if (p.group(4) != null) bytes *= Integer.parseInt(p.group(4));
        params.add(new Param(type, p.group(3), bytes));
      }
      entries.put(e.group(1), List.copyOf(params));
    }
    return new Ptx(Integer.parseInt(v.group(1)), Integer.parseInt(v.group(2)), target, entries);
  }

  private static int typeBytes(String type) {
    return switch (type) {
      case "b8", "u8", "s8", "pred" -> 1;
      case "b16", "u16", "s16", "f16" -> 2;
      case "b32", "u32", "s32", "f32" -> 4;
      case "b64", "u64", "s64", "f64" -> 8;
      default -> throw new CudaLoadException(218, "PTX: unknown parameter type ." + type);
    };
  }

  /** The ISA version as major·10 + minor (8.4 is 84). */
  public int isa() {
    return major * 10 + minor;
  }

  public String version() {
    return major + "." + minor;
  }

  public String target() {
    return target;
  }

  public Map<String, List<Param>> entries() {
    return entries;
  }

  /**
   * The newest PTX ISA a driver reads, as major·10 + minor, from cuDriverGetVersion's number
   * (1000·major + 10·minor). From NVIDIA's PTX ISA release notes: CUDA 11.x reads 7.x, 12.0-12.5
   * read 8.0-8.5, 12.6 still 8.5, 12.8 reads 8.7, 12.9 8.8, 13.x reads 9.x.
   */
  public static int maxIsaForDriver(int driverVersion) {
    int maj = driverVersion / 1000, min = driverVersion % 1000 / 10;
    if (maj < 11) return 0;
    if (maj == 11) return 70 + Math.min(min, 8);
    if (maj == 12) return min <= 5 ? 80 + min : min == 6 ? 85 : 80 + min - 1;
    return (maj - 4) * 10 + Math.min(min, 9);
  }

  /** Refuses (case L2) a module whose ISA the driver cannot read, naming both versions. */
  public void requireLoadable(String module, int driverVersion) {
    int max = maxIsaForDriver(driverVersion);
    if (isa() > max) {
      throw new CudaLoadException(
          222,
          module
              + ": PTX ISA "
              + version()
              + " is newer than driver "
              + driverVersion / 1000
              + "."
              + driverVersion % 1000 / 10
              + " ("
              + driverVersion
              + ") reads, which is up to "
              + max / 10
              + "."
              + max % 10
              + " (CUDA_ERROR_UNSUPPORTED_PTX_VERSION); update the NVIDIA driver");
    }
  }

  /** The entry's parameter sizes in bytes, or null when the module has no such entry. */
  public int[] paramSizes(String entry) {
    List<Param> ps = entries.get(entry);
    if (ps == null) return null;
    int[] s = new int[ps.size()];
    for (int i = 0; i < s.length; i++) s[i] = ps.get(i).bytes();
    return s;
  }
}
