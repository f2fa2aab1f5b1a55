package dev.trent.issuance;

import dev.trent.pki.SerialNumbers;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentSigner;

import dev.trent.ca.Issuer;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyType;

/**
 * One issuance as its stages ({@link IssuanceStage}) see it: what was asked for (set when it is
 * made), and what the stages decided in order (window, TBS, reservation, signature, DER). Lives
 * for one request on one thread; a stage reads what earlier stages wrote and writes its own part.
 */
final class Issuance {

    /** What is asked for: the kind, who signs, the subject's name and key, and for how long. */
    record Subject(PreSigningLinter.Kind kind, Issuer issuer, CertificateProfile profile, String profileName,
            String name, List<String> dnsNames, List<String> ipAddresses, SubjectPublicKeyInfo publicKey,
            String publicKeySha256, KeyType keyType, Duration validity, Long tokenId) {

        public Subject {
            dnsNames = List.copyOf(dnsNames);
            ipAddresses = List.copyOf(ipAddresses);
        }
    }

    private final Subject subject;
    private final ContentSigner signer;
    private BigInteger serial;
    private String recordDeviceId;
    private Instant notBefore;
    private Instant notAfter;
    private CertificateFactory.Tbs tbs;
    private Instant issuedAt;
    private long reservationId = -1;
    private X509CertificateHolder holder;
    private byte[] der;
    private final Map<String, Object> auditDetails = new LinkedHashMap<>();

    /** The signer is asked for once: the TBS carries its algorithm, and the same one signs it. */
    Issuance(Subject subject, BigInteger serial) {
        this.subject = subject;
        this.serial = serial;
        this.signer = subject.issuer().signer().contentSigner();
        this.recordDeviceId = subject.name();
    }

    public Subject subject() {
        return subject;
    }

    public Issuer issuer() {
        return subject.issuer();
    }

    public ContentSigner signer() {
        return signer;
    }

    public BigInteger serial() {
        return serial;
    }

    /** The serial as stored: lowercase hex, no leading zeros. */
    public String serialHex() {
        return SerialNumbers.toHex(serial);
    }

    /** The device id recorded with the certificate (the subject's name unless a flow says otherwise). */
    public String recordDeviceId() {
        return recordDeviceId;
    }

    void recordDeviceId(String deviceId) {
        this.recordDeviceId = deviceId;
    }

    public Instant notBefore() {
        return notBefore;
    }

    public Instant notAfter() {
        return notAfter;
    }

    void window(Instant notBefore, Instant notAfter) {
        this.notBefore = notBefore;
        this.notAfter = notAfter;
    }

    /** The exact TBSCertificate DER: linted, hashed into the reservation, signed. */
    public byte[] tbs() {
        return tbs.der();
    }

    /** The TBSCertificate whose encoding {@link #tbs()} is. */
    CertificateFactory.Tbs built() {
        return tbs;
    }

    void tbs(CertificateFactory.Tbs tbs) {
        this.tbs = tbs;
    }

    public Instant issuedAt() {
        return issuedAt;
    }

    public long reservationId() {
        return reservationId;
    }

    void reserved(long id, Instant at) {
        this.reservationId = id;
        this.issuedAt = at;
    }

    public X509CertificateHolder holder() {
        return holder;
    }

    void signed(X509CertificateHolder holder, byte[] der) {
        this.holder = holder;
        this.der = der;
    }

    public byte[] der() {
        return der;
    }

    /** Details for the {@code certificate.issued} audit event; stages and flows may add to them. */
    public Map<String, Object> auditDetails() {
        return auditDetails;
    }
}
