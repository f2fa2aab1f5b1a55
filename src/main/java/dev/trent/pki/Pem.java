package dev.trent.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * PEM (RFC 7468) through Bouncy Castle's {@link PemWriter} and {@link PemReader}: 64-character
 * base64 lines and {@code \n} line ends whatever the platform, and a reader that is strict about
 * labels and headers.
 */
public final class Pem {

    private static final String BEGIN = "-----BEGIN ";
    private static final String END = "-----END ";
    private static final String DASHES = "-----";
    private static final int MAX_LABEL = 40;

    private Pem() {
    }

    /** One decoded PEM block. */
    public record Block(String label, byte[] der) {
    }

    public static String encode(String label, byte[] der) {
        StringWriter out = new StringWriter(der.length * 4 / 3 + 2 * label.length() + 64);
        try (PemWriter writer = new LfPemWriter(out)) {
            writer.writeObject(new PemObject(label, der));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    public static String certificate(X509Certificate cert) {
        try {
            return encode("CERTIFICATE", cert.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("certificate cannot be encoded", e);
        }
    }

    public static String certificates(List<X509Certificate> certs) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate cert : certs) {
            sb.append(certificate(cert));
        }
        return sb.toString();
    }

    /**
     * Decodes every PEM block in the text, in order. Each encapsulation boundary is a line of
     * its own (surrounding whitespace allowed, RFC 7468 section 3's lax parsing); text between
     * blocks is ignored; whitespace inside the base64 is ignored. RFC 1421 headers
     * ({@code Proc-Type: 4,ENCRYPTED}) are refused: Trent reads no encrypted legacy PEM.
     *
     * @throws IllegalArgumentException when a block's label, base64 or headers are invalid, or a
     *                                  block is not closed
     * @see <a href="https://www.rfc-editor.org/rfc/rfc7468#section-3">RFC 7468, 3</a>
     */
    public static List<Block> decodeAll(String text) {
        List<Block> blocks = new ArrayList<>();
        StrictPemReader reader = new StrictPemReader(text);
        try (reader) {
            for (PemObject o = reader.readPemObject(); o != null; o = reader.readPemObject()) {
                if (!o.getHeaders().isEmpty()) {
                    throw new IllegalArgumentException("PEM block '" + o.getType() + "' has headers (an encrypted "
                            + "legacy PEM?); send it without");
                }
                blocks.add(new Block(o.getType(), o.getContent()));
            }
        } catch (IOException e) {
            if (reader.open != null) {
                throw new IllegalArgumentException("PEM block '" + reader.open + "' has no END line", e);
            }
            throw new IllegalArgumentException(e.getMessage(), e); // base64 that does not decode

        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException("PEM cannot be decoded (" + e.getClass().getSimpleName() + ")", e);
        }
        return blocks;
    }

    public static boolean looksLikePem(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.US_ASCII);
        return head.stripLeading().startsWith("-----BEGIN ");
    }

    /** Bouncy Castle's writer ends lines with the platform's separator; PEM out of Trent uses {@code \n}. */
    private static final class LfPemWriter extends PemWriter {
        LfPemWriter(Writer out) {
            super(out);
        }

        @Override
        public void newLine() throws IOException {
            write('\n');
        }
    }

    /**
     * Bouncy Castle's reader on stripped lines, checking each BEGIN line: closed by five dashes,
     * and a label of at most 40 characters from RFC 7468's {@code label} set as Trent uses it
     * (upper-case letters, digits, space, '#').
     */
    private static final class StrictPemReader extends PemReader {
        /** The label of the block being read, null between blocks. */
        String open;

        StrictPemReader(String text) {
            super(new StringReader(text));
        }

        @Override
        public String readLine() throws IOException {
            String line = super.readLine();
            if (line == null) {
                return null;
            }
            line = line.strip();
            if (line.startsWith(BEGIN)) {
                int labelEnd = line.indexOf(DASHES, BEGIN.length());
                if (labelEnd < 0 || labelEnd - BEGIN.length() > MAX_LABEL) {
                    throw new IllegalArgumentException("PEM BEGIN line is not closed");
                }
                for (int k = BEGIN.length(); k < labelEnd; k++) {
                    char c = line.charAt(k);
                    if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '#')) {
                        throw new IllegalArgumentException("PEM label has an invalid character");
                    }
                }
                open = line.substring(BEGIN.length(), labelEnd);
            } else if (open != null && line.startsWith(END + open + DASHES)) {
                open = null;
            }
            return line;
        }
    }
}
