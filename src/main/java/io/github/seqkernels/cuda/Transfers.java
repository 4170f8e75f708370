package io.github.seqkernels.cuda;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts of the copies a {@link KernelLauncher} has made, by direction: the measure of device
 * residency (a model whose weights and intermediates stay on the device copies only its inputs to
 * it and its outputs back). Kernel launches and memsets are not copies and are not counted.
 */
public final class Transfers {
  private final AtomicLong toDeviceBytes = new AtomicLong(), toDeviceCopies = new AtomicLong();
  private final AtomicLong toHostBytes = new AtomicLong(), toHostCopies = new AtomicLong();
  private final AtomicLong onDeviceBytes = new AtomicLong(), onDeviceCopies = new AtomicLong();

  /** The counts at one moment; {@link #minus} gives what happened between two. */
  public record Snapshot(
      long toDeviceBytes,
      long toDeviceCopies,
      long toHostBytes,
      long toHostCopies,
      long onDeviceBytes,
      long onDeviceCopies) {
    public Snapshot minus(Snapshot earlier) {
      return new Snapshot(
          toDeviceBytes - earlier.toDeviceBytes,
          toDeviceCopies - earlier.toDeviceCopies,
          toHostBytes - earlier.toHostBytes,
          toHostCopies - earlier.toHostCopies,
          onDeviceBytes - earlier.onDeviceBytes,
          onDeviceCopies - earlier.onDeviceCopies);
    }

    @Override
    public String toString() {
      return "host->device "
          + toDeviceBytes
          + " B in "
          + toDeviceCopies
          + " copies, device->host "
          + toHostBytes
          + " B in "
          + toHostCopies
          + ", device->device "
          + onDeviceBytes
          + " B in "
          + onDeviceCopies;
    }
  }

  void toDevice(long bytes) {
    toDeviceBytes.addAndGet(bytes);
    toDeviceCopies.incrementAndGet();
  }

  void toHost(long bytes) {
    toHostBytes.addAndGet(bytes);
    toHostCopies.incrementAndGet();
  }

  void onDevice(long bytes) {
    onDeviceBytes.addAndGet(bytes);
    onDeviceCopies.incrementAndGet();
  }

  public Snapshot snapshot() {
    return new Snapshot(
        toDeviceBytes.get(),
        toDeviceCopies.get(),
        toHostBytes.get(),
        toHostCopies.get(),
        onDeviceBytes.get(),
        onDeviceCopies.get());
  }
}
