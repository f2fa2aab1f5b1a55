package dev.trent.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.standardwebhooks.Webhook;

import dev.trent.pki.SecretBox;

class WebhookSignatureTest {

    @TempDir
    Path dir;

    @Test
    void signWhenComparedWithTheReferenceLibraryThenSameHeaderValue() throws Exception {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String serialized = WebhookSignature.serialize(secret);
        assertThat(serialized).startsWith("whsec_");
        String body = "{\"type\":\"certificate.revoked\",\"data\":{\"serial\":\"ab\"}}";
        long ts = 1_764_000_000L;
        assertThat(WebhookSignature.sign(secret, "msg_abc", ts, body.getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(new Webhook(serialized).sign("msg_abc", ts, body));
    }

    @Test
    void openWhenSealedForAnotherEndpointOrWithAnotherKeyThenRefused() throws Exception {
        SecureRandom random = new SecureRandom();
        SecretBox box = SecretBox.fromFile(dir.resolve("k"), random);
        assertThat(Files.getPosixFilePermissions(dir.resolve("k")))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        byte[] sealed = box.seal(secret, WebhookService.sealContext(7));
        assertThat(SecretBox.fromFile(dir.resolve("k"), random).open(sealed, WebhookService.sealContext(7))).as("the same key, read again")
                .isEqualTo(secret);
        assertThatThrownBy(() -> box.open(sealed, WebhookService.sealContext(8))).isInstanceOf(GeneralSecurityException.class);
        SecretBox other = SecretBox.fromFile(dir.resolve("other"), random);
        assertThat(other.keyId()).isNotEqualTo(box.keyId());
        assertThatThrownBy(() -> other.open(sealed, WebhookService.sealContext(7))).isInstanceOf(GeneralSecurityException.class);
        assertThat(Base64.getDecoder().decode(Files.readString(dir.resolve("k")).strip())).hasSize(32);
    }
}
