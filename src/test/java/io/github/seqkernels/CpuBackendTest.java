package io.github.seqkernels;

import io.github.seqkernels.cuda.CudaBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The backend under test, opened once per test class that extends this: the CPU backend on 2
 * threads, or with {@code -Dseqkernels.test.backend=cuda-emulator} the CUDA backend on the host
 * emulation of its kernels ({@code cuda-emulator-cublas}: with {@link
 * io.github.seqkernels.cuda.HostBlas} standing in for cuBLAS; {@code cuda}: on the real driver), so
 * every suite runs unchanged on each backend.
 */
abstract class CpuBackendTest {
  static Backend backend;

  @BeforeAll
  static void open() {
    backend = openTestBackend();
  }

  static Backend openTestBackend() {
    String name = System.getProperty("seqkernels.test.backend", "cpu");
    return switch (name) {
      case "cpu" -> Backend.create("cpu", 2);
      case "cuda-emulator" -> CudaBackend.emulated();
      case "cuda-emulator-cublas" -> io.github.seqkernels.cuda.HostBlas.backend();
      case "cuda" -> CudaBackend.open();
      default ->
          throw new IllegalArgumentException(
              "seqkernels.test.backend: must be cpu, cuda-emulator, cuda-emulator-cublas or cuda,"
                  + " got '"
                  + name
                  + "'");
    };
  }

  @AfterAll
  static void close() {
    backend.close();
  }
}
