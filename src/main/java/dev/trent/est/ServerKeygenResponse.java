package dev.trent.est;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMultipart;

/**
 * The body of an EST serverkeygen answer (RFC 7030 4.4.2): {@code multipart/mixed} with the
 * private key ({@code application/pkcs8}) and then the certificate (certs-only PKCS#7), each
 * base64 with 64-character CRLF lines, written by Jakarta Mail's {@link MimeMultipart}. The parts
 * carry their base64 as it is (no second encoding), and the boundary is Trent's own random
 * token, which needs no quoting in the Content-Type header.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc7030#section-4.4.2">RFC 7030, 4.4.2</a>
 */
final class ServerKeygenResponse {

    /** The Content-Type header (with the boundary) and the body. */
    record Body(String contentType, byte[] bytes) {
    }

    private static final byte[] CRLF = {'\r', '\n'};

    private ServerKeygenResponse() {
    }

    /**
     * @param pkcs8          the private key, DER; not kept
     * @param certsOnlyBase64 the certs-only PKCS#7, base64 with CRLF line ends (as {@code certsOnly} writes it)
     */
    static Body of(byte[] pkcs8, byte[] certsOnlyBase64) {
        String type = "multipart/mixed; boundary=trent-est-" + UUID.randomUUID();
        byte[] key = Base64.getMimeEncoder(64, CRLF).encode(pkcs8);
        try {
            MimeMultipart multipart = new MimeMultipart() {
                {
                    contentType = type; // Trent's boundary instead of Jakarta Mail's generated one
                }
            };
            multipart.addBodyPart(part("application/pkcs8", key));
            // The delimiter's CRLF (RFC 2046 5.1.1) ends the last base64 line.
            multipart.addBodyPart(part(EstController.PKCS7_CERTS_ONLY, withoutTrailingCrlf(certsOnlyBase64)));
            ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + certsOnlyBase64.length + 512);
            multipart.writeTo(out);
            return new Body(type, out.toByteArray());
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException("cannot write the serverkeygen multipart body", e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static MimeBodyPart part(String type, byte[] base64) throws MessagingException {
        InternetHeaders headers = new InternetHeaders();
        headers.addHeader("Content-Type", type);
        headers.addHeader("Content-Transfer-Encoding", "base64");
        return new MimeBodyPart(headers, base64);
    }

    private static byte[] withoutTrailingCrlf(byte[] text) {
        int n = text.length;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) {
            n--;
        }
        return Arrays.copyOf(text, n);
    }
}
