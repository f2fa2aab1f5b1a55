package dev.trent.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.operator.ContentSigner;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.trent.ca.CaSigner;
import dev.trent.ca.KeyStatus;

/**
 * A test stand-in for an HSM's audit log: wraps the configured {@code caSigner} so that every
 * certificate it signs (a TBSCertificate; CRLs and audit checkpoints are skipped) appends the
 * SHA-256 of the signed TBS to the file named by the system property
 * {@code trent.test.signature-journal}, forced to disk before the signature is returned. A fault
 * test then checks that every signature the key produced is accounted for in PostgreSQL. Added
 * to a Trent started in a child JVM with {@code --spring.main.sources=dev.trent.support.SignatureJournal}.
 */
@Configuration(proxyBeanMethods = false)
public class SignatureJournal {

    @Bean
    static BeanPostProcessor signatureJournalWrapper() {
        String file = System.getProperty("trent.test.signature-journal");
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String name) {
                if (file == null || !"caSigner".equals(name) || !(bean instanceof CaSigner real)) {
                    return bean;
                }
                return new Journaled(real, KeyStatus.of(real), Path.of(file));
            }
        };
    }

    /** The signer, and its status forwarded unchanged. */
    record Journaled(CaSigner real, KeyStatus status, Path file) implements CaSigner, KeyStatus {

        @Override
        public List<X509Certificate> chain() {
            return real.chain();
        }

        @Override
        public ContentSigner contentSigner() {
            ContentSigner signer = real.contentSigner();
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            return new ContentSigner() {
                @Override
                public AlgorithmIdentifier getAlgorithmIdentifier() {
                    return signer.getAlgorithmIdentifier();
                }

                @Override
                public OutputStream getOutputStream() {
                    OutputStream inner = signer.getOutputStream();
                    return new OutputStream() {
                        @Override
                        public void write(int b) throws IOException {
                            seen.write(b);
                            inner.write(b);
                        }

                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            seen.write(b, off, len);
                            inner.write(b, off, len);
                        }

                        @Override
                        public void close() throws IOException {
                            inner.close();
                        }
                    };
                }

                @Override
                public byte[] getSignature() {
                    byte[] signature = signer.getSignature();
                    record(seen.toByteArray());
                    return signature;
                }
            };
        }

        private void record(byte[] signed) {
            try {
                TBSCertificate.getInstance(signed);
            } catch (RuntimeException notACertificate) {
                return; // a CRL, an OCSP response or an audit checkpoint
            }
            try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                String line = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(signed)) + "\n";
                out.write(java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
                out.force(true);
            } catch (IOException | NoSuchAlgorithmException e) {
                throw new IllegalStateException("signature journal " + file + " cannot be written", e);
            }
        }

        @Override
        public boolean available() {
            return status.available();
        }

        @Override
        public String fault() {
            return status.fault();
        }

        @Override
        public void reconnectIfDue() {
            status.reconnectIfDue();
        }

        @Override
        public String describe() {
            return status.describe();
        }

        @Override
        public String keyReference() {
            return status.keyReference();
        }
    }
}
