package dev.trent.est;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.jupiter.api.Test;

class ServerKeygenResponseTest {

    @Test
    void ofWhenKeyAndCertsThenTheMultipartMixedBytesDevicesAlreadyParse() {
        byte[] key = new byte[138];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 31);
        }
        String keyB64 = Base64.getMimeEncoder(64, new byte[] {'\r', '\n'}).encodeToString(key);
        String certs = "MIIB" + "A".repeat(60) + "\r\n" + "QUJD\r\n"; // as certsOnly writes it: CRLF lines, CRLF at the end

        ServerKeygenResponse.Body body = ServerKeygenResponse.of(key, certs.getBytes(StandardCharsets.US_ASCII));

        assertThat(body.contentType()).matches("multipart/mixed; boundary=trent-est-[0-9a-f-]{36}");
        String boundary = body.contentType().substring(body.contentType().indexOf('=') + 1);
        assertThat(keyB64).contains("\r\n"); // more than one line: the line length is pinned too
        assertThat(new String(body.bytes(), StandardCharsets.US_ASCII)).isEqualTo("--" + boundary + "\r\n"
                + "Content-Type: application/pkcs8\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n"
                + keyB64 + "\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\n"
                + certs
                + "--" + boundary + "--\r\n");
        assertThat(ServerKeygenResponse.of(key, certs.getBytes(StandardCharsets.US_ASCII)).contentType())
                .as("a fresh boundary per answer").isNotEqualTo(body.contentType());
    }
}
