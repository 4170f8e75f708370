package io.github.seqkernels.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.github.seqkernels.onnx.proto.Onnx.StringStringEntryProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto;
import io.github.seqkernels.onnx.proto.Onnx.TensorProto.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Both storage forms of every data type the readers take, and the refusals. */
class OnnxTensorsTest {
  private static TensorProto.Builder tensor(DataType type, long... dims) {
    TensorProto.Builder b = TensorProto.newBuilder().setName("t").setDataType(type.getNumber());
    for (long d : dims) b.addDims(d);
    return b;
  }

  private static ByteString le(int bytes, Consumer<ByteBuffer> fill) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    fill.accept(b);
    return ByteString.copyFrom(b.array());
  }

  @Test
  void floatsFromRawDataAndFloatData() {
    float[] want = {1.5f, -2f, Float.NEGATIVE_INFINITY, 3e-38f, 0f, 7f};
    TensorProto raw =
        tensor(DataType.FLOAT, 2, 3).setRawData(le(24, b -> b.asFloatBuffer().put(want))).build();
    TensorProto.Builder typed = tensor(DataType.FLOAT, 2, 3);
    for (float f : want) typed.addFloatData(f);
    assertArrayEquals(want, OnnxTensors.toFloats(raw));
    assertArrayEquals(want, OnnxTensors.toFloats(typed.build()));
    assertArrayEquals(new long[] {2, 3}, OnnxTensors.toTensor(raw).shape());
  }

  @Test
  void scalarHasEmptyShapeAndOneElement() {
    TensorProto t = tensor(DataType.FLOAT).addFloatData(4f).build();
    assertArrayEquals(new long[0], OnnxTensors.shape(t));
    assertArrayEquals(new float[] {4f}, OnnxTensors.toFloats(t));
  }

  @Test
  void halfPrecisionWidensExactly() {
    // 0x3c00 = 1.0 and 0xc000 = -2.0 in float16; 0x3f80 = 1.0 and 0xc040 = -3.0 in bfloat16.
    TensorProto f16 =
        tensor(DataType.FLOAT16, 2)
            .setRawData(le(4, b -> b.putShort((short) 0x3c00).putShort((short) 0xc000)))
            .build();
    TensorProto bf16 =
        tensor(DataType.BFLOAT16, 2).addInt32Data(0x3f80).addInt32Data(0xc040).build();
    assertArrayEquals(new float[] {1f, -2f}, OnnxTensors.toFloats(f16));
    assertArrayEquals(new float[] {1f, -3f}, OnnxTensors.toFloats(bf16));
  }

  @Test
  void integersKeepTheirSignedness() {
    TensorProto u8 =
        tensor(DataType.UINT8, 2)
            .setRawData(ByteString.copyFrom(new byte[] {(byte) 255, 1}))
            .build();
    TensorProto i8 =
        tensor(DataType.INT8, 2)
            .setRawData(ByteString.copyFrom(new byte[] {(byte) 255, 1}))
            .build();
    TensorProto u16 =
        tensor(DataType.UINT16, 1).setRawData(le(2, b -> b.putShort((short) -1))).build();
    TensorProto i32 = tensor(DataType.INT32, 2).addInt32Data(-5).addInt32Data(6).build();
    TensorProto i64 =
        tensor(DataType.INT64, 2).setRawData(le(16, b -> b.putLong(-1L << 40).putLong(3))).build();
    TensorProto u32 = tensor(DataType.UINT32, 1).setRawData(le(4, b -> b.putInt(-1))).build();
    assertArrayEquals(new int[] {255, 1}, OnnxTensors.toInts(u8));
    assertArrayEquals(new int[] {-1, 1}, OnnxTensors.toInts(i8));
    assertArrayEquals(new int[] {65535}, OnnxTensors.toInts(u16));
    assertArrayEquals(new long[] {-5, 6}, OnnxTensors.toLongs(i32));
    assertArrayEquals(new long[] {-1L << 40, 3}, OnnxTensors.toLongs(i64));
    assertArrayEquals(new long[] {0xffffffffL}, OnnxTensors.toLongs(u32));
  }

  @Test
  void booleansFromBytesOrInts() {
    TensorProto raw =
        tensor(DataType.BOOL, 3).setRawData(ByteString.copyFrom(new byte[] {1, 0, 1})).build();
    TensorProto typed = tensor(DataType.BOOL, 2).addInt32Data(0).addInt32Data(1).build();
    assertArrayEquals(new boolean[] {true, false, true}, OnnxTensors.toBooleans(raw));
    assertArrayEquals(new boolean[] {false, true}, OnnxTensors.toBooleans(typed));
  }

  @Test
  void refusalsNameTheTensorTypeAndRule() {
    List<Runnable> bad =
        List.of(
            () -> OnnxTensors.toFloats(tensor(DataType.DOUBLE, 1).addDoubleData(1).build()),
            () -> OnnxTensors.toInts(tensor(DataType.INT64, 1).addInt64Data(1).build()),
            () -> OnnxTensors.toFloats(tensor(DataType.STRING, 1).build()),
            () -> OnnxTensors.toFloats(tensor(DataType.FLOAT, 3).addFloatData(1).build()),
            () ->
                OnnxTensors.toFloats(tensor(DataType.FLOAT, 2).setRawData(le(4, b -> {})).build()),
            () ->
                OnnxTensors.toFloats(
                    tensor(DataType.FLOAT, 1)
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(
                            StringStringEntryProto.newBuilder().setKey("location").setValue("w"))
                        .build()));
    for (Runnable r : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
      assertTrue(e.getMessage().startsWith("tensor 't' of type "), e.getMessage());
    }
  }
}
