package io.github.seqkernels;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The CPU backend on 2 threads, opened once per test class that extends this. */
abstract class CpuBackendTest {
  static Backend backend;

  @BeforeAll
  static void open() {
    backend = Backend.create("cpu", 2);
  }

  @AfterAll
  static void close() {
    backend.close();
  }
}
