package dev.trent.enrollment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TrentClient;

/**
 * Every CSR under {@code src/test/resources/csr} (copied from shared/testdata, made by real
 * clients) gets the outcome its README names, over HTTP against the running service.
 */
class CsrTestdataIT extends IntegrationTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // file, content type, profile, expected status, expected problem type (or null)
                Arguments.of("mbedtls-p256.csr", "application/x-pem-file", "device", 201, null),
                Arguments.of("openssl-p256.csr", "application/x-pem-file", "device", 201, null),
                Arguments.of("openssl-p256.csr", "text/plain", "device", 201, null),
                Arguments.of("openssl-p256.der", "application/pkcs10", "device", 201, null),
                Arguments.of("openssl-p256.b64", "application/pkcs10", "device", 201, null),
                Arguments.of("openssl-p384.csr", "application/x-pem-file", "device", 201, null),
                Arguments.of("keytool-p256.csr", "application/x-pem-file", "device", 201, null),
                Arguments.of("openssl-rsa2048.csr", "application/x-pem-file", "device", 400, "key-refused"),
                Arguments.of("openssl-rsa2048.csr", "application/x-pem-file", "server", 201, null),
                Arguments.of("openssl-ed25519.csr", "application/x-pem-file", "device", 400, "key-refused"),
                Arguments.of("openssl-ed25519.csr", "application/x-pem-file", "server", 400, "key-refused"),
                Arguments.of("openssl-p256-with-sans.csr", "application/x-pem-file", "device", 201, null),
                Arguments.of("openssl-rsa1024.csr", "application/x-pem-file", "server", 400, "key-refused"),
                Arguments.of("openssl-secp256k1.csr", "application/x-pem-file", "device", 400, "key-refused"),
                Arguments.of("openssl-p256-badsig.der", "application/pkcs10", "device", 400, "csr-signature-invalid"),
                Arguments.of("truncated.der", "application/pkcs10", "device", 400, "csr-malformed"),
                Arguments.of("garbage.bin", "application/pkcs10", "device", 400, "csr-malformed"),
                Arguments.of("garbage.bin", "application/x-pem-file", "device", 400, "csr-malformed"),
                Arguments.of("empty.bin", "application/pkcs10", "device", 400, "csr-malformed"),
                Arguments.of("empty.bin", "application/x-pem-file", "device", 400, "csr-malformed"));
    }

    @ParameterizedTest(name = "{0} as {1} under {2} -> {3}")
    @MethodSource("cases")
    void enrollWhenTestdataCsrThenExpectedOutcome(String file, String contentType, String profile, int status,
            String problemType) throws IOException {
        TrentClient client = client();
        String device = deviceId("td");
        String token = client.token(ADMIN_KEY, device, profile,
                profile.equals("server") ? List.of("gw.example.test") : null);

        TrentClient.Response r = client.enroll(token, contentType, read(file), "application/json");

        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        Integer used = jdbc.queryForObject(
                "select count(*) from enrollment_token where device_id = ? and used_at is not null", Integer.class,
                device);
        Integer certs = jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class,
                device);
        if (status == 201) {
            assertThat(r.json().get("deviceId").asText()).isEqualTo(device);
            assertThat(r.json().get("profile").asText()).isEqualTo(profile);
            assertThat(used).isEqualTo(1);
            assertThat(certs).isEqualTo(1);
        } else {
            assertThat(r.contentType()).startsWith("application/problem+json");
            assertThat(r.json().get("type").asText()).isEqualTo("https://trent.dev/problems/" + problemType);
            assertThat(r.json().get("status").asInt()).isEqualTo(status);
            assertThat(r.json().get("detail").asText()).isNotBlank();
            // Refused input loses nothing: the token stays unused and no certificate exists.
            assertThat(used).isZero();
            assertThat(certs).isZero();
        }
    }

    static byte[] read(String file) throws IOException {
        try (InputStream in = CsrTestdataIT.class.getResourceAsStream("/csr/" + file)) {
            assertThat(in).as("test resource /csr/" + file).isNotNull();
            return in.readAllBytes();
        }
    }
}
