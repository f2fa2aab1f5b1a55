package dev.trent.web;

/** The page and size parameters of list endpoints. */
public final class Paging {

    private Paging() {
    }

    /**
     * Checks {@code page} (from 0) and {@code size} (1 to {@code maxSize}), and that the page's
     * first item, {@code page * size}, is an offset the database can be asked for (at most
     * {@link Integer#MAX_VALUE}).
     *
     * @throws ProblemException 400 {@code invalid-request} saying which bound was broken
     */
    public static void check(int page, int size, int maxSize) {
        if (page < 0 || size < 1 || size > maxSize) {
            throw ProblemException.invalidRequest("page must be 0 or more and size between 1 and " + maxSize + ".");
        }
        if ((long) page * size > Integer.MAX_VALUE) {
            throw ProblemException.invalidRequest("page * size must be at most " + Integer.MAX_VALUE + " (there are "
                    + "not that many items).");
        }
    }
}
