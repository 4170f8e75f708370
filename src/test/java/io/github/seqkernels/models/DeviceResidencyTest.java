package io.github.seqkernels.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.seqkernels.Backend;
import io.github.seqkernels.cuda.CudaBackend;
import io.github.seqkernels.cuda.Transfers;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The models keep their weights and intermediates on a backend with device memory: on the emulated
 * CUDA backend, loading copies every weight to the device once, and then each MiniLM forward and
 * each VAD chunk copies only its inputs in and its outputs out, counted by the launcher's {@link
 * Transfers}; no layer's activations travel through the host. The results match the CPU's.
 */
class DeviceResidencyTest {
  static Transfers.Snapshot counts(CudaBackend be) {
    return be.launcher().transfers().snapshot();
  }

  static void assertCopies(
      String what, long toDevice, long toHost, long onDevice, Transfers.Snapshot d) {
    assertEquals(toDevice, d.toDeviceCopies(), what + " host->device: " + d);
    assertEquals(toHost, d.toHostCopies(), what + " device->host: " + d);
    assertEquals(onDevice, d.onDeviceCopies(), what + " device->device: " + d);
  }

  @Test
  void miniLmCopiesWeightsOnceThenOnlyInputsAndOutputs() throws Exception {
    List<String> texts = List.of("The animal didn't cross the street", "because it was too tired");
    float[][] cpu;
    try (Backend c = Backend.create("cpu", 2);
        MiniLm m = MiniLm.load(c)) {
      cpu = m.embed(texts);
    }
    try (CudaBackend be = CudaBackend.emulated()) {
      Transfers.Snapshot t0 = counts(be);
      try (MiniLm m = MiniLm.load(be)) {
        // Load: the 5 embedding weights (word, position, type tables, LayerNorm scale and bias),
        // then per layer 17: query, key and value weights and biases (6, packed into one block on
        // the device), the output projection's weight and bias, the 1/heads vector of the head
        // mean, the two feed-forward weights and biases and the two LayerNorms' scales and biases.
        int layers = m.layers();
        assertEquals(6, layers);
        Transfers.Snapshot t1 = counts(be);
        assertCopies("load", 5 + 17L * layers, 0, 0, t1.minus(t0));

        // One forward of a batch of 2: in, the word and type ids, the key lengths (once for every
        // layer) and the pooling weights; out, the last hidden states and the pooled rows.
        MiniLm.Tokens tokens = m.tokenize(texts);
        MiniLm.Output o = m.forward(tokens);
        Transfers.Snapshot t2 = counts(be);
        assertCopies("forward", 4, 2, 0, t2.minus(t1));
        float[] first = o.embeddings().toArray();
        for (int b = 0; b < texts.size(); b++) {
          float[] row =
              java.util.Arrays.copyOfRange(first, b * m.hiddenSize(), (b + 1) * m.hiddenSize());
          assertArrayEquals(cpu[b], row, 1e-5f, "text " + b + " against the CPU");
        }

        // The same batch again: the key lengths are on the device already.
        m.forward(tokens);
        Transfers.Snapshot t3 = counts(be);
        assertCopies("second forward", 3, 2, 0, t3.minus(t2));

        // Attention weights asked for: they come out too, one more copy.
        MiniLm.Output w = m.forward(tokens, 2);
        assertCopies("forward with weights", 3, 3, 0, counts(be).minus(t3));
        assertEquals(1f, sumOfRow(w.attention().toArray(), (int) w.attention().size(3)), 1e-5f);
      }
    }
  }

  static float sumOfRow(float[] a, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i];
    return s;
  }

  @Test
  void vadKeepsWeightsAndLstmStateOnTheDevice() {
    float[] audio =
        WavAudio.read(SileroVadTest.resource("speech_16k.wav")).samples(); // 16 kHz, 10 s
    int chunks = 8;
    float[] cpu = new float[chunks];
    try (Backend c = Backend.create("cpu", 1)) {
      SileroVad vad = SileroVad.load(c, null, 16000);
      try (SileroVad.Detector d = vad.newDetector()) {
        for (int i = 0; i < chunks; i++) cpu[i] = d.process(audio, 16000 + i * 512);
      }
    }
    try (CudaBackend be = CudaBackend.emulated()) {
      Transfers.Snapshot t0 = counts(be);
      try (SileroVad vad = SileroVad.load(be, null, 16000)) {
        // Load: the STFT basis, 4 encoder weights and biases, the decoder's weight and bias (11),
        // and the LSTM's W, R and B (3), which the cell then copies on the device (3).
        Transfers.Snapshot t1 = counts(be);
        assertCopies("load", 14, 0, 3, t1.minus(t0));
        try (SileroVad.Detector d = vad.newDetector()) {
          Transfers.Snapshot t2 = counts(be);
          assertCopies("new detector", 0, 0, 0, t2.minus(t1));
          float[] ours = new float[chunks];
          for (int i = 0; i < chunks; i++) ours[i] = d.process(audio, 16000 + i * 512);
          // Per chunk: the frame in, the spectrum out and the magnitudes in (host code between),
          // the probability out; inside the LSTM step, h and c into the step's buffers and back
          // (device to device).
          assertCopies("chunks", 2L * chunks, 2L * chunks, 4L * chunks, counts(be).minus(t2));
          for (int i = 0; i < chunks; i++) {
            assertEquals(cpu[i], ours[i], 1e-5f, "chunk " + i + " against the CPU");
          }
          boolean speech = false;
          for (float p : ours) speech |= p > 0.5f;
          assertTrue(speech, "the chunks from 1 s on hold speech");
          // reset() zeroes the state on the device: the next chunk is the stream's first again.
          d.reset();
          float again = d.process(audio, 16000);
          try (SileroVad.Detector fresh = vad.newDetector()) {
            assertEquals(fresh.process(audio, 16000), again);
          }
        }
      }
    }
  }
}
