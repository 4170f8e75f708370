package io.github.seqkernels.onnx;

import com.google.protobuf.ByteString;
import io.github.seqkernels.Tensor;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads the elements of an ONNX {@link TensorProto} (onnx.proto, generated from {@code
 * src/main/proto}) into Java arrays, row-major, with {@link #shape}.
 *
 * <p>ONNX stores elements either in {@code raw_data} (fixed width, little-endian, one byte per
 * bool) or in a typed repeated field chosen by the data type: {@code float_data} for FLOAT, {@code
 * int32_data} for the narrow integers, BOOL and the bits of FLOAT16 / BFLOAT16, {@code int64_data}
 * for INT64, {@code uint64_data} for UINT32. Both forms are read here. Each reader accepts only the
 * data types whose every value it represents exactly (FLOAT16 widens to float, UINT8 to int, ...);
 * any other type, strings, external data and chunked (segment) tensors throw {@link
 * IllegalArgumentException} naming the tensor, its type and what the reader accepts.
 */
public final class OnnxTensors {
  private OnnxTensors() {}

  /** The dims, as a {@link Tensor} shape; a scalar has {@code []}. */
  public static long[] shape(TensorProto t) {
    long[] s = new long[t.getDimsCount()];
    for (int d = 0; d < s.length; d++) {
      s[d] = t.getDims(d);
      if (s[d] < 0) {
        throw new IllegalArgumentException(
            describe(t) + ": dims must be >= 0, got " + t.getDimsList());
      }
    }
    return s;
  }

  /** The data type, or UNDEFINED for a number this schema does not know. */
  public static DataType dataType(TensorProto t) {
    DataType d = DataType.forNumber(t.getDataType());
    return d == null ? DataType.UNDEFINED : d;
  }

  /** A float32 {@link Tensor} over {@link #toFloats}, with {@link #shape}. */
  public static Tensor toTensor(TensorProto t) {
    return Tensor.wrap(toFloats(t), shape(t));
  }

  /** Elements of a FLOAT, FLOAT16 or BFLOAT16 tensor as float (the 16-bit ones widen exactly). */
  public static float[] toFloats(TensorProto t) {
    DataType type = dataType(t);
    int n = elementCount(t);
    float[] out = new float[n];
    switch (type) {
      case FLOAT -> {
        if (t.hasRawData()) raw(t, n, 4).asFloatBuffer().get(out);
        else {
          requireCount(t, "float_data", t.getFloatDataCount(), n);
          for (int i = 0; i < n; i++) out[i] = t.getFloatData(i);
        }
      }
      case FLOAT16, BFLOAT16 -> {
        // Both are 16-bit patterns: raw_data holds them as uint16, int32_data one per entry.
        short[] bits = new short[n];
        if (t.hasRawData()) raw(t, n, 2).asShortBuffer().get(bits);
        else {
          requireCount(t, "int32_data", t.getInt32DataCount(), n);
          for (int i = 0; i < n; i++) bits[i] = (short) t.getInt32Data(i);
        }
        for (int i = 0; i < n; i++) {
          out[i] =
              type == DataType.FLOAT16
                  ? Float.float16ToFloat(bits[i])
                  : Float.intBitsToFloat((bits[i] & 0xffff) << 16);
        }
      }
      default -> throw unsupported(t, "FLOAT, FLOAT16, BFLOAT16");
    }
    return out;
  }

  /** Elements of an INT32, INT16, INT8, UINT16 or UINT8 tensor as int. */
  public static int[] toInts(TensorProto t) {
    DataType type = dataType(t);
    int n = elementCount(t);
    int[] out = new int[n];
    if (!isNarrowInt(type)) throw unsupported(t, "INT32, INT16, INT8, UINT16, UINT8");
    if (t.hasRawData()) {
      ByteBuffer b = raw(t, n, width(type));
      for (int i = 0; i < n; i++) {
        out[i] =
            switch (type) {
              case INT32 -> b.getInt();
              case INT16 -> b.getShort();
              case UINT16 -> b.getShort() & 0xffff;
              case INT8 -> b.get();
              default -> b.get() & 0xff; // UINT8
            };
      }
    } else {
      requireCount(t, "int32_data", t.getInt32DataCount(), n);
      for (int i = 0; i < n; i++) out[i] = t.getInt32Data(i);
    }
    return out;
  }

  /** Elements of an INT64 or UINT32 tensor, or of any type {@link #toInts} takes, as long. */
  public static long[] toLongs(TensorProto t) {
    DataType type = dataType(t);
    int n = elementCount(t);
    long[] out = new long[n];
    if (isNarrowInt(type)) {
      int[] ints = toInts(t);
      for (int i = 0; i < n; i++) out[i] = ints[i];
    } else if (type == DataType.INT64) {
      if (t.hasRawData()) raw(t, n, 8).asLongBuffer().get(out);
      else {
        requireCount(t, "int64_data", t.getInt64DataCount(), n);
        for (int i = 0; i < n; i++) out[i] = t.getInt64Data(i);
      }
    } else if (type == DataType.UINT32) {
      if (t.hasRawData()) {
        ByteBuffer b = raw(t, n, 4);
        for (int i = 0; i < n; i++) out[i] = b.getInt() & 0xffffffffL;
      } else {
        requireCount(t, "uint64_data", t.getUint64DataCount(), n);
        for (int i = 0; i < n; i++) out[i] = t.getUint64Data(i);
      }
    } else {
      throw unsupported(t, "INT64, UINT32, INT32, INT16, INT8, UINT16, UINT8");
    }
    return out;
  }

  /** Elements of a BOOL tensor; any non-zero byte or int is true. */
  public static boolean[] toBooleans(TensorProto t) {
    if (dataType(t) != DataType.BOOL) throw unsupported(t, "BOOL");
    int n = elementCount(t);
    boolean[] out = new boolean[n];
    if (t.hasRawData()) {
      ByteBuffer b = raw(t, n, 1);
      for (int i = 0; i < n; i++) out[i] = b.get() != 0;
    } else {
      requireCount(t, "int32_data", t.getInt32DataCount(), n);
      for (int i = 0; i < n; i++) out[i] = t.getInt32Data(i) != 0;
    }
    return out;
  }

  private static boolean isNarrowInt(DataType type) {
    return switch (type) {
      case INT32, INT16, INT8, UINT16, UINT8 -> true;
      default -> false;
    };
  }

  private static int width(DataType type) {
    return switch (type) {
      case INT32 -> 4;
      case INT16, UINT16 -> 2;
      default -> 1;
    };
  }

  /** The product of the dims, after refusing what no reader here handles. */
  private static int elementCount(TensorProto t) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
      throw new IllegalArgumentException(
          describe(t) + ": external data is not supported (the elements live in another file)");
    }
    if (t.hasSegment()) {
      throw new IllegalArgumentException(
          describe(t) + ": segmented (chunked) tensors are not supported");
    }
    long n = 1;
    for (long d : shape(t)) n = Math.multiplyExact(n, d);
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          describe(t) + ": " + n + " elements do not fit a Java array");
    }
    return (int) n;
  }

  /** raw_data as a little-endian buffer of exactly n elements of {@code width} bytes. */
  private static ByteBuffer raw(TensorProto t, int n, int width) {
    ByteString raw = t.getRawData();
    if (raw.size() != (long) n * width) {
      throw new IllegalArgumentException(
          describe(t)
              + ": dims "
              + Arrays.toString(shape(t))
              + " need "
              + n * (long) width
              + " bytes of raw_data, got "
              + raw.size());
    }
    return raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void requireCount(TensorProto t, String field, int have, int n) {
    if (have != n) {
      throw new IllegalArgumentException(
          describe(t)
              + ": dims "
              + Arrays.toString(shape(t))
              + " need "
              + n
              + " elements in "
              + field
              + ", got "
              + have);
    }
  }

  private static IllegalArgumentException unsupported(TensorProto t, String accepted) {
    return new IllegalArgumentException(
        describe(t) + ": data type not supported here, must be one of " + accepted);
  }

  private static String describe(TensorProto t) {
    String name = t.getName().isEmpty() ? "(unnamed)" : "'" + t.getName() + "'";
    DataType d = DataType.forNumber(t.getDataType());
    return "tensor " + name + " of type " + (d == null ? "#" + t.getDataType() : d.name());
  }
}
