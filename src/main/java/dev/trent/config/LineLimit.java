package dev.trent.config;

/**
 * At most a number of log lines a second (a fixed one-second window): {@link #admit} says whether
 * a line may be written, and how many were dropped before it, so that the count rides on the next
 * line written. Client errors and PostgreSQL's own output use it, so that a client cannot grow the
 * log faster than the limit.
 */
public final class LineLimit {

    private final int perSecond;
    private long window = -1;
    private int lines;
    private long suppressed;

    public LineLimit(int perSecond) {
        this.perSecond = perSecond;
    }

    /** -1 when this second's lines are used up (the line is counted, not written), else how many were dropped before it. */
    public synchronized long admit() {
        long second = System.nanoTime() / 1_000_000_000L;
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
