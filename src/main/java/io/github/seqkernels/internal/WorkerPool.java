package io.github.seqkernels.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of threads that run the numbered pieces of one job at a time.
 *
 * <p>Design: {@link #run} publishes a job (a {@link Task} and a piece count), wakes the workers,
 * and takes part itself as worker 0. Each worker claims piece numbers from a shared counter until
 * none is left, so uneven pieces (causal attention) balance themselves. Nothing is allocated per
 * job: the task object is the caller's, workers index their own scratch by worker id, and waking is
 * {@link LockSupport#unpark}. Workers spin briefly before parking, since operator calls often come
 * back to back. One job runs at a time; concurrent callers queue on the pool's lock.
 */
public final class WorkerPool implements AutoCloseable {
  /** One piece of a job: {@code piece} in [0, count), {@code worker} in [0, parallelism). */
  @FunctionalInterface
  public interface Task {
    void run(int piece, int worker);
  }

  private static final int SPINS = 20_000;

  private final int parallelism;
  private final Thread[] threads;
  private final Placement placement;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger active = new AtomicInteger();
  private volatile Task task;
  private volatile int count;
  private volatile int generation;
  private volatile boolean closed;
  private volatile Throwable failure;
  private volatile Thread caller;

  public WorkerPool(int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism: must be >= 1, got " + parallelism);
    }
    this.parallelism = parallelism;
    this.threads = new Thread[parallelism - 1];
    for (int i = 0; i < threads.length; i++) {
      int id = i + 1;
      threads[i] =
          Thread.ofPlatform().daemon().name("seqkernels-cpu-" + id).unstarted(() -> workerLoop(id));
      threads[i].start();
    }
    this.placement = Placement.host("cpu", anyWorker());
  }

  public int parallelism() {
    return parallelism;
  }

  /** The CPU backend's rule for operands: host memory that the caller and the workers reach. */
  public Placement placement() {
    return placement;
  }

  /** A thread other than the caller that runs pieces, or null when parallelism is 1. */
  public Thread anyWorker() {
    return threads.length == 0 ? null : threads[0];
  }

  /** Runs pieces 0..count-1 of {@code t} across the pool and returns when all are done. */
  public synchronized void run(int count, Task t) {
    if (closed) throw new IllegalStateException("worker pool is closed");
    if (count <= 0) return;
    if (threads.length == 0 || count == 1) {
      for (int i = 0; i < count; i++) t.run(i, 0);
      return;
    }
    failure = null;
    task = t;
    this.count = count;
    next.set(0);
    active.set(threads.length);
    caller = Thread.currentThread();
    generation++;
    for (Thread th : threads) LockSupport.unpark(th);

    drain(t, count, 0);

    // Wait for the workers to finish their last pieces: spin, then park.
    for (int spin = 0; active.get() != 0; spin++) {
      if (spin < SPINS) Thread.onSpinWait();
      else LockSupport.park(this);
    }
    task = null;
    Throwable f = failure;
    if (f != null) {
      failure = null;
      if (f instanceof RuntimeException re) throw re;
      if (f instanceof Error er) throw er;
      throw new IllegalStateException(f);
    }
  }

  private void drain(Task t, int n, int worker) {
    for (int i; (i = next.getAndIncrement()) < n; ) {
      try {
        t.run(i, worker);
      } catch (Throwable e) {
        if (failure == null) failure = e;
        next.set(n); // stop handing out pieces
      }
    }
  }

  private void workerLoop(int id) {
    int seen = 0;
    while (true) {
      for (int spin = 0; generation == seen && !closed; spin++) {
        if (spin < SPINS) Thread.onSpinWait();
        else LockSupport.park(this);
      }
      if (closed) return;
      seen = generation;
      Task t = task;
      if (t != null) drain(t, count, id);
      if (active.decrementAndGet() == 0) LockSupport.unpark(caller);
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread th : threads) LockSupport.unpark(th);
  }
}
