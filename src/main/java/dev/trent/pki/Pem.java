package dev.trent.pki;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM (RFC 7468) encoding and a strict, small decoder. */
public final class Pem {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]{1,40})-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

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
     * Decodes every PEM block in the text, in order.
     *
     * @throws IllegalArgumentException when a block's base64 is invalid
     */
    public static List<Block> decodeAll(String text) {
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String body = m.group(2).replaceAll("\\s", "");
            blocks.add(new Block(m.group(1), Base64.getDecoder().decode(body)));
        }
        return blocks;
    }

    public static boolean looksLikePem(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.US_ASCII);
        return head.stripLeading().startsWith("-----BEGIN ");
    }
}
