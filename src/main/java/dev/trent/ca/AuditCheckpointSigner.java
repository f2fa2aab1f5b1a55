package dev.trent.ca;

import java.io.IOException;
import java.io.OutputStream;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.bouncycastle.operator.ContentSigner;
import org.springframework.stereotype.Component;

import dev.trent.audit.CheckpointSigner;

/** The audit log's checkpoints signed by the active issuer's key; trust from every issuer's root. */
@Component
class AuditCheckpointSigner implements CheckpointSigner {

    private final IssuerRegistry issuers;

    AuditCheckpointSigner(IssuerRegistry issuers) {
        this.issuers = issuers;
    }

    @Override
    public List<X509Certificate> roots() {
        Set<X509Certificate> roots = new LinkedHashSet<>();
        for (Issuer issuer : issuers.all()) {
            List<X509Certificate> chain = issuer.signer().chain();
            roots.add(chain.get(chain.size() - 1));
        }
        return List.copyOf(roots);
    }

    @Override
    public Signature sign(byte[] message) {
        Issuer issuer = issuers.active();
        ContentSigner signer = issuer.signer().contentSigner();
        try (OutputStream out = signer.getOutputStream()) {
            out.write(message);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] signature;
        try {
            signature = signer.getSignature();
        } catch (RuntimeException e) {
            throw new SigningException("the CA key could not sign the audit checkpoint", e);
        }
        try {
            return new Signature(issuer.id(), signer.getAlgorithmIdentifier().getAlgorithm().getId(), signature,
                    issuer.certificate().getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
