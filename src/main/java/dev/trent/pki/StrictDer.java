package dev.trent.pki;

/**
 * A non-recursive check that bytes are one DER encoding (ITU-T X.690, 10): definite lengths in
 * their shortest form, SEQUENCE and SET constructed, every other universal type primitive (DER
 * has no constructed strings), contents that exactly fill their parent, nothing after the
 * outermost value, and nesting no deeper than a bound.
 *
 * <p>It runs before any recursive ASN.1 parser (the JDK's, Bouncy Castle's) sees untrusted bytes:
 * deeply nested BER would overflow their stacks. It walks with an explicit stack of end offsets,
 * so its own depth is bounded by {@code maxDepth}, not by the thread's stack. It checks the
 * encoding only; whether the value re-encodes to the same bytes (DER's canonical values, SET OF
 * order) is for a parser to check afterwards.
 *
 * @see <a href="https://www.itu.int/rec/T-REC-X.690">X.690, 8.1.3 and 10.1 (lengths), 10.2 (primitive strings)</a>
 */
public final class StrictDer {

    private StrictDer() {
    }

    /** Why the bytes are not one bounded DER value; the message says what and where. */
    public static final class NotDer extends Exception {
        NotDer(String message) {
            super(message);
        }
    }

    /**
     * Checks that {@code der} is exactly one DER value nested at most {@code maxDepth} levels
     * (the outermost value is level 1).
     *
     * @throws NotDer naming the first defect and its byte offset
     */
    public static void check(byte[] der, int maxDepth) throws NotDer {
        if (der == null || der.length == 0) {
            throw new NotDer("empty: no DER value");
        }
        int[] ends = new int[maxDepth + 1];
        int depth = 0; // number of open constructed values
        ends[0] = der.length;
        int pos = 0;
        boolean first = true;
        while (true) {
            while (depth > 0 && pos == ends[depth]) {
                depth--;
            }
            if (depth == 0 && !first) {
                if (pos != der.length) {
                    throw new NotDer((der.length - pos) + " byte(s) of trailing data after the DER value (offset " + pos
                            + ")");
                }
                return;
            }
            first = false;
            int limit = ends[depth];
            int start = pos;
            if (pos >= limit) {
                throw new NotDer("truncated at offset " + pos);
            }
            int id = der[pos++] & 0xff;
            boolean constructed = (id & 0x20) != 0;
            int tagClass = id >>> 6;
            int tag = id & 0x1f;
            if (tag == 0x1f) {
                tag = 0;
                int n = 0;
                while (true) {
                    if (pos >= limit) {
                        throw new NotDer("truncated tag at offset " + start);
                    }
                    int b = der[pos++] & 0xff;
                    if (n == 0 && b == 0x80) {
                        throw new NotDer("tag number with a leading zero at offset " + start);
                    }
                    if (++n > 4) {
                        throw new NotDer("tag number too large at offset " + start);
                    }
                    tag = tag << 7 | b & 0x7f;
                    if ((b & 0x80) == 0) {
                        break;
                    }
                }
                if (tag < 0x1f) {
                    throw new NotDer("tag " + tag + " in the long form at offset " + start + " (DER uses the short form)");
                }
            }
            if (pos >= limit) {
                throw new NotDer("truncated length at offset " + start);
            }
            int first8 = der[pos++] & 0xff;
            long length;
            if (first8 < 0x80) {
                length = first8;
            } else if (first8 == 0x80) {
                throw new NotDer("indefinite length at offset " + start + " (BER; DER needs definite lengths)");
            } else {
                int n = first8 & 0x7f;
                if (n > 4) {
                    throw new NotDer("length of " + n + " bytes at offset " + start);
                }
                if (pos + n > limit) {
                    throw new NotDer("truncated length at offset " + start);
                }
                if (der[pos] == 0) {
                    throw new NotDer("non-minimal length at offset " + start + " (a leading zero byte; not DER)");
                }
                length = 0;
                for (int k = 0; k < n; k++) {
                    length = length << 8 | der[pos++] & 0xff;
                }
                if (length < 0x80) {
                    throw new NotDer("non-minimal length at offset " + start + " (long form for " + length
                            + "; not DER)");
                }
            }
            if (length > limit - pos) {
                throw new NotDer("length " + length + " at offset " + start + " runs past its enclosing value");
            }
            if (tagClass == 0) {
                boolean mustBeConstructed = tag == 16 || tag == 17; // SEQUENCE, SET
                boolean mayBeConstructed = mustBeConstructed || tag == 8 || tag == 11; // EXTERNAL, EMBEDDED PDV
                if (mustBeConstructed && !constructed) {
                    throw new NotDer("primitive " + (tag == 16 ? "SEQUENCE" : "SET") + " at offset " + start);
                }
                if (constructed && !mayBeConstructed) {
                    throw new NotDer("constructed encoding of universal type " + tag + " at offset " + start
                            + " (BER; DER encodes strings primitively)");
                }
                if (tag == 0) {
                    throw new NotDer("end-of-contents octets at offset " + start + " (BER)");
                }
            }
            if (constructed) {
                if (depth + 1 > maxDepth) {
                    throw new NotDer("nested deeper than " + maxDepth + " levels (offset " + start + ")");
                }
                ends[++depth] = pos + (int) length;
            } else {
                pos += (int) length;
            }
        }
    }
}
