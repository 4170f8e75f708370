package io.github.seqkernels;

/** The outputs of a {@link RecurrentOp}: y, y_h, y_c (ONNX names); each may be null. */
public record RecurrentOutputs(Tensor y, Tensor yH, Tensor yC) {}
