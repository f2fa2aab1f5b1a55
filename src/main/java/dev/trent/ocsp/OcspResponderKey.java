package dev.trent.ocsp;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.trent.ca.Issuer;
import dev.trent.config.TrentProperties;
import dev.trent.issuance.IssuanceService;
import dev.trent.pki.Hashes;
import dev.trent.pki.Providers;

/**
 * This instance's delegated OCSP responders: per issuer that publishes status, a P-256 key
 * generated in memory (a software key, whatever holds the CA key) and a short-lived certificate
 * for it issued by that issuer (RFC 6960 4.2.2.2: a delegated responder is authorised by the CA
 * that issued the certificates it answers for). Each is replaced once half of its lifetime has
 * passed. Each instance has its own.
 */
@Component
public class OcspResponderKey {

    private static final Logger log = LoggerFactory.getLogger(OcspResponderKey.class);

    private final IssuanceService issuance;
    private final SecureRandom random;
    private final Clock clock;
    private final Duration validity;
    private final String name;
    private final java.util.Map<String, Responder> current = new java.util.concurrent.ConcurrentHashMap<>();

    /** The responder's key, certificate, and the certificate in Bouncy Castle's form. */
    public record Responder(Issuer issuer, KeyPair keys, X509Certificate certificate, X509CertificateHolder holder) {

        public ContentSigner signer() {
            try {
                return new JcaContentSignerBuilder("SHA256withECDSA").setProvider(Providers.signatures("SHA256withECDSA"))
                        .build(keys.getPrivate());
            } catch (OperatorCreationException e) {
                throw new IllegalStateException("OCSP responder key cannot sign", e);
            }
        }
    }

    OcspResponderKey(IssuanceService issuance, SecureRandom random, Clock clock, TrentProperties properties) {
        this.issuance = issuance;
        this.random = random;
        this.clock = clock;
        this.validity = properties.ocsp().responderValidity();
        byte[] tag = new byte[4];
        random.nextBytes(tag);
        this.name = "Trent OCSP Responder " + HexFormat.of().formatHex(tag);
    }

    /** The current responder for this issuer, issued on first use. */
    public Responder current(Issuer issuer) {
        Responder r = current.get(issuer.id());
        if (r == null) {
            synchronized (this) {
                r = current.get(issuer.id());
                if (r == null) {
                    r = issue(issuer);
                    current.put(issuer.id(), r);
                }
            }
        }
        return r;
    }

    /** Replaces responders once half their lifetime has passed (checked every ten minutes). */
    @Scheduled(initialDelay = 600_000, fixedDelay = 600_000)
    void rotateIfDue() {
        for (java.util.Map.Entry<String, Responder> e : current.entrySet()) {
            Responder r = e.getValue();
            Instant notBefore = r.certificate().getNotBefore().toInstant();
            Instant notAfter = r.certificate().getNotAfter().toInstant();
            Instant half = notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
            if (!clock.instant().isBefore(half)) {
                try {
                    current.put(e.getKey(), issue(r.issuer()));
                } catch (RuntimeException ex) {
                    // The old one stays valid until its notAfter; the next check tries again.
                    log.warn("OCSP responder for issuer {} not renewed: {}", e.getKey(), ex.getMessage());
                }
            }
        }
    }

    private Responder issue(Issuer issuer) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", Providers.BC);
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair keys = g.generateKeyPair();
            byte[] spki = keys.getPublic().getEncoded();
            X509Certificate cert = issuance.issueOcspResponder(issuer, SubjectPublicKeyInfo.getInstance(spki),
                    Hashes.sha256Hex(spki), name, validity);
            log.info("OCSP responder certificate {} issued to {} until {}", cert.getSerialNumber().toString(16), name,
                    cert.getNotAfter().toInstant());
            return new Responder(issuer, keys, cert, new X509CertificateHolder(cert.getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the OCSP responder key", e);
        }
    }
}
