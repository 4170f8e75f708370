package io.github.seqkernels;

/**
 * Softmax along one axis of a float32 tensor of any rank: {@code y[..., j, ...] = exp(s·x_j - max)
 * / sum_k exp(s·x_k - max)}, or with {@code log} {@code s·x_j - max - log(sum_k exp(s·x_k - max))}.
 * Subtracting the row maximum keeps huge and tiny logits finite: softmax([1000, 1001, 1002]) equals
 * softmax([1, 2, 3]).
 *
 * <p>A row whose entries are all {@code -inf} (nothing to normalise) gives 0, or {@code -inf} for
 * log-softmax, instead of NaN. {@code x} and {@code y} have the same shape and may be the same
 * tensor; any strides. Bad input throws {@link IllegalArgumentException} before anything is
 * written.
 */
public interface SoftmaxOp {
  void forward(Tensor x, Tensor y, SoftmaxOptions options);

  default void forward(Tensor x, Tensor y) {
    forward(x, y, SoftmaxOptions.defaults());
  }
}
