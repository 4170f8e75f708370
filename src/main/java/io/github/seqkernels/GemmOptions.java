package io.github.seqkernels;

/**
 * The attributes of {@link GemmOp}: {@code Y = alpha · op(A) · op(B) + beta · C}, where op
 * transposes when {@code transA} / {@code transB} is set (ONNX Gemm). Defaults: no transposes,
 * alpha 1, beta 1.
 */
public record GemmOptions(boolean transA, boolean transB, float alpha, float beta) {
  public static GemmOptions defaults() {
    return new GemmOptions(false, false, 1f, 1f);
  }

  public GemmOptions withTransA(boolean t) {
    return new GemmOptions(t, transB, alpha, beta);
  }

  public GemmOptions withTransB(boolean t) {
    return new GemmOptions(transA, t, alpha, beta);
  }

  public GemmOptions withAlpha(float a) {
    return new GemmOptions(transA, transB, a, beta);
  }

  public GemmOptions withBeta(float b) {
    return new GemmOptions(transA, transB, alpha, b);
  }
}
