package dev.trent.pki;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** PEM (RFC 7468) encoding and a strict, small decoder. */
public final class Pem {

    private static final String BEGIN = "-----BEGIN ";
    private static final String END = "-----END ";
    private static final String DASHES = "-----";

    private Pem() {
    }

    /** One decoded PEM block. */
    public record Block(String label, byte[] der) {
    }

    public static String encode(String label, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + b64 + "\n-----END " + label + "-----\n";
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
     * Decodes every PEM block in the text, in order: a scan for the encapsulation boundaries,
     * without regular expressions (this sits on the enrollment hot path and sees untrusted
     * input). Whitespace inside the base64 is ignored; text between blocks is ignored.
     *
     * @throws IllegalArgumentException when a block's label or base64 is invalid, or a block
     *                                  is not closed
     * @see <a href="https://www.rfc-editor.org/rfc/rfc7468#section-3">RFC 7468, 3</a>
     */
    public static List<Block> decodeAll(String text) {
        List<Block> blocks = new ArrayList<>();
        int from = 0;
        while (true) {
            int begin = text.indexOf(BEGIN, from);
            if (begin < 0) {
                return blocks;
            }
            int labelStart = begin + BEGIN.length();
            int labelEnd = text.indexOf(DASHES, labelStart);
            if (labelEnd < 0 || labelEnd - labelStart > 40) {
                throw new IllegalArgumentException("PEM BEGIN line is not closed");
            }
            String label = text.substring(labelStart, labelEnd);
            for (int k = 0; k < label.length(); k++) {
                char c = label.charAt(k);
                if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '#')) {
                    throw new IllegalArgumentException("PEM label has an invalid character");
                }
            }
            String endLine = END + label + DASHES;
            int bodyStart = labelEnd + DASHES.length();
            int end = text.indexOf(endLine, bodyStart);
            if (end < 0) {
                throw new IllegalArgumentException("PEM block '" + label + "' has no END line");
            }
            StringBuilder b64 = new StringBuilder(end - bodyStart);
            for (int k = bodyStart; k < end; k++) {
                char c = text.charAt(k);
                if (!Character.isWhitespace(c)) {
                    b64.append(c);
                }
            }
            blocks.add(new Block(label, Base64.getDecoder().decode(b64.toString())));
            from = end + endLine.length();
        }
    }

    public static boolean looksLikePem(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.US_ASCII);
        return head.stripLeading().startsWith("-----BEGIN ");
    }
}
