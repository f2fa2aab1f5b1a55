package dev.trent.config;

/**
 * At most a number of log lines a second (a fixed one-second window): {@link #admit} says whether
 * a line may be written, and how many were dropped before it, so that the count rides on the next
 * line written. Client errors and PostgreSQL's own output use it, so that a client cannot grow the
 * log faster than the limit.
 */
public final class LineLimit {

    private final int perSecond;
    private final java.util.function.LongSupplier nanoTime;
    private long window = Long.MIN_VALUE;
    private int lines;
    private long suppressed;

    public LineLimit(int perSecond) {
        this(perSecond, System::nanoTime);
    }

    /** With its own time source in nanoseconds (a test moves it instead of sleeping). */
    public LineLimit(int perSecond, java.util.function.LongSupplier nanoTime) {
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
    }

    /** -1 when this second's lines are used up (the line is counted, not written), else how many were dropped before it. */
    public synchronized long admit() {
        long second = Math.floorDiv(nanoTime.getAsLong(), 1_000_000_000L);
        if (second != window) {
            window = second;
            lines = 0;
        }
        if (++lines > perSecond) {
            suppressed++;
            return -1;
        }
        long dropped = suppressed;
        suppressed = 0;
        return dropped;
    }
}
