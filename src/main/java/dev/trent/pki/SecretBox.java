package dev.trent.pki;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals secrets at rest (webhook signing secrets, OCSP responder keys): AES-256-GCM (NIST SP
 * 800-38D) with a random 96-bit nonce and a context naming the secret's owner (for example its
 * row) as associated data, so a sealed secret cannot be moved to another row. The key is 32
 * random bytes, base64 in a file (owner-only), created on first use. A database dump alone then
 * does not open the secrets; the key file goes into the backup separately, like the CA's keystore.
 */
public final class SecretBox {

    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final SecretKeySpec key;
    private final String keyId;
    private final SecureRandom random;

    SecretBox(byte[] key, SecureRandom random) {
        if (key.length != 32) {
            throw new IllegalArgumentException("a sealing key must be 32 bytes");
        }
        this.key = new SecretKeySpec(key, "AES");
        this.keyId = Hashes.sha256Hex(key).substring(0, 16);
        this.random = random;
    }

    /** Reads the key file, or creates it (32 random bytes, owner-only) when it does not exist. */
    public static SecretBox fromFile(Path file, SecureRandom random) throws IOException {
        if (!Files.exists(file)) {
            byte[] fresh = new byte[32];
            random.nextBytes(fresh);
            create(file, (Base64.getEncoder().encodeToString(fresh) + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " does not hold a base64 key");
        }
        if (key.length != 32) {
            throw new IOException(file + " must hold 32 bytes in base64 (an AES-256 key), not " + key.length);
        }
        return new SecretBox(key, random);
    }

    /** Created beside its final name and linked into place: two instances starting at once keep one key. */
    private static void create(Path file, byte[] content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".tmp-", ".part");
        try {
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            }
            Files.write(tmp, content);
            Files.createLink(file, tmp);
        } catch (FileAlreadyExistsException e) {
            // Another instance created it first: use theirs.
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The first 16 hex digits of the key's SHA-256: which key sealed a secret. */
    public String keyId() {
        return keyId;
    }

    /** The secret sealed for {@code context} (which {@link #open} must be given again). */
    public byte[] seal(byte[] secret, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = c.doFinal(secret);
            return ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        }
    }

    /** The secret, if {@code sealed} was sealed with this key for this context; else the exception. */
    public byte[] open(byte[] sealed, String context) throws GeneralSecurityException {
        if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new GeneralSecurityException("sealed secret too short");
        }
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, Arrays.copyOf(sealed, NONCE_BYTES)));
        c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
        return c.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    }

    @Override
    public String toString() {
        return "SecretBox[keyId=" + keyId + "]";
    }
}
