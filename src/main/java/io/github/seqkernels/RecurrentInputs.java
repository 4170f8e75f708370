package io.github.seqkernels;

/** The inputs of a {@link RecurrentOp}, named as in ONNX; optional ones may be null. */
public record RecurrentInputs(
    Tensor x,
    Tensor w,
    Tensor r,
    Tensor b,
    int[] sequenceLens,
    Tensor initialH,
    Tensor initialC,
    Tensor p) {

  /** The three required inputs; the optional ones null. */
  public static RecurrentInputs of(Tensor x, Tensor w, Tensor r) {
    return new RecurrentInputs(x, w, r, null, null, null, null, null);
  }

  public RecurrentInputs withB(Tensor b) {
    return new RecurrentInputs(x, w, r, b, sequenceLens, initialH, initialC, p);
  }

  public RecurrentInputs withSequenceLens(int... lens) {
    return new RecurrentInputs(x, w, r, b, lens, initialH, initialC, p);
  }

  public RecurrentInputs withInitialH(Tensor h) {
    return new RecurrentInputs(x, w, r, b, sequenceLens, h, initialC, p);
  }

  public RecurrentInputs withInitialC(Tensor c) {
    return new RecurrentInputs(x, w, r, b, sequenceLens, initialH, c, p);
  }

  public RecurrentInputs withP(Tensor peepholes) {
    return new RecurrentInputs(x, w, r, b, sequenceLens, initialH, initialC, peepholes);
  }
}
