package dev.trent.crl;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.operator.ContentSigner;

import dev.trent.pki.KeyIds;

/**
 * Encodes a v2 CRL (RFC 5280 section 5) while its entries stream in, so that a CRL of a million
 * entries never exists as a million objects: each entry is DER-encoded as it arrives and
 * appended to a temporary file; at the end the TBSCertList is streamed from that file through
 * the signer and into the final DER, whose lengths are then known. Bouncy Castle's
 * {@code X509v2CRLBuilder} holds every entry as an object and takes about twice as long.
 *
 * <p>CRL extensions: authorityKeyIdentifier and cRLNumber, both non-critical, and nothing else.
 * There is no issuingDistributionPoint: the CRL is a full CRL ("A full and complete CRL lists all
 * unexpired certificates issued by a CA that have been revoked for any reason", RFC 5280 section
 * 5), and the IDP exists to state a narrower scope ("whether the CRL covers revocation for end
 * entity certificates only, CA certificates only, attribute certificates only, or a limited set
 * of reason codes", 5.2.5). Leaving it out matters to devices: the IDP is always critical, and
 * mbedTLS (2.28 and 3.6, {@code library/x509_crl.c}) refuses to parse a CRL that carries any
 * critical extension. Each issuer has its own CRL at its own URL, so no CRL can stand in for
 * another's. Entry extensions: reasonCode (absent for {@code unspecified}, as RFC 5280 5.3.1
 * asks) and invalidityDate, both non-critical.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-5.1">RFC 5280, 5.1</a>
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-5.2.5">RFC 5280, 5.2.5</a>
 */
public final class CrlEncoder implements Closeable {

    private static final int SEQUENCE = 0x30;

    /** One revoked certificate. {@code reasonCode} null means no reasonCode extension. */
    public record Entry(BigInteger serial, Instant revocationDate, Integer reasonCode, Instant invalidityDate) {
    }

    private final Path entriesFile;
    private final OutputStream entries;
    private long entriesLength;
    private long count;

    public CrlEncoder() throws IOException {
        this.entriesFile = Files.createTempFile("trent-crl-", ".der");
        this.entries = new BufferedOutputStream(Files.newOutputStream(entriesFile), 1 << 16);
    }

    /** Appends one entry; entries keep the order in which they are added. */
    public void add(Entry e) throws IOException {
        // Encoded by hand (a few hundred thousand of these per second matter for large CRLs);
        // CrlEncoderTest checks the bytes against Bouncy Castle's own encoding.
        byte[] serial = e.serial().toByteArray();
        byte[] date = encodeTime(e.revocationDate());
        byte[] reason = e.reasonCode() == null ? null : REASON_EXTENSIONS[e.reasonCode()];
        byte[] invalidity = e.invalidityDate() == null ? null : invalidityExtension(e.invalidityDate());
        int extContent = (reason == null ? 0 : reason.length) + (invalidity == null ? 0 : invalidity.length);
        int content = 2 + serial.length + date.length + (extContent == 0 ? 0 : headerLength(extContent) + extContent);
        scratch.reset();
        writeHeader(scratch, SEQUENCE, content);
        scratch.write(0x02);
        scratch.write(serial.length);
        scratch.write(serial);
        scratch.write(date);
        if (extContent > 0) {
            writeHeader(scratch, SEQUENCE, extContent);
            if (reason != null) {
                scratch.write(reason);
            }
            if (invalidity != null) {
                scratch.write(invalidity);
            }
        }
        scratch.writeTo(entries);
        entriesLength += scratch.size();
        count++;
    }

    /** Extension { reasonCode, OCTET STRING { ENUMERATED code } } for each CRLReason code. */
    private static final byte[][] REASON_EXTENSIONS = new byte[11][];

    static {
        for (int code = 0; code <= 10; code++) {
            if (code == 7) {
                continue; // not a CRLReason value
            }
            try {
                REASON_EXTENSIONS[code] = new Extension(Extension.reasonCode, false,
                        new DEROctetString(CRLReason.lookup(code).getEncoded(ASN1Encoding.DER)))
                        .getEncoded(ASN1Encoding.DER);
            } catch (IOException ex) {
                throw new ExceptionInInitializerError(ex);
            }
        }
    }

    private static byte[] invalidityExtension(Instant instant) throws IOException {
        return new Extension(Extension.invalidityDate, false, new DEROctetString(
                new ASN1GeneralizedTime(Date.from(instant.truncatedTo(ChronoUnit.SECONDS))).getEncoded(ASN1Encoding.DER)))
                .getEncoded(ASN1Encoding.DER);
    }

    private final ByteArrayOutputStream scratch = new ByteArrayOutputStream(128);

    public long count() {
        return count;
    }

    /**
     * Signs and returns the complete CRL.
     *
     * @param issuer     the issuing CA's certificate (its subject becomes the CRL's issuer)
     * @param signer     a signer for the issuer's key
     */
    public byte[] finish(X509Certificate issuer, ContentSigner signer, Instant thisUpdate, Instant nextUpdate,
            BigInteger crlNumber) throws IOException {
        return finish(issuer, signer, thisUpdate, nextUpdate, crlNumber, java.util.List.of());
    }

    /**
     * As {@link #finish(X509Certificate, ContentSigner, Instant, Instant, BigInteger)}, with a
     * critical issuingDistributionPoint naming {@code distributionPoint} (and
     * onlyContainsUserCerts) when it is not empty: only for relying parties that insist on one
     * (EMQX's documentation says its CRL check needs it), since mbedTLS then refuses the CRL.
     *
     * @param distributionPoint the URLs certificates carry in their cRLDistributionPoints
     */
    public byte[] finish(X509Certificate issuer, ContentSigner signer, Instant thisUpdate, Instant nextUpdate,
            BigInteger crlNumber, java.util.List<java.net.URI> distributionPoint) throws IOException {
        entries.close();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(new ASN1Integer(1).getEncoded(ASN1Encoding.DER)); // v2
        head.write(signer.getAlgorithmIdentifier().getEncoded(ASN1Encoding.DER));
        head.write(issuer.getSubjectX500Principal().getEncoded());
        head.write(time(thisUpdate).toASN1Primitive().getEncoded(ASN1Encoding.DER));
        head.write(time(nextUpdate).toASN1Primitive().getEncoded(ASN1Encoding.DER));
        if (count > 0) {
            // "When there are no revoked certificates, the revoked certificates list MUST be absent."
            writeHeader(head, SEQUENCE, entriesLength);
        }
        byte[] headBytes = head.toByteArray();
        byte[] extensions = new DERTaggedObject(true, 0, crlExtensions(issuer, crlNumber, distributionPoint))
                .getEncoded(ASN1Encoding.DER);
        long tbsContent = headBytes.length + (count > 0 ? entriesLength : 0) + extensions.length;

        try (OutputStream sig = signer.getOutputStream()) {
            writeTbs(sig, tbsContent, headBytes, extensions);
        }
        byte[] signatureAlgorithm = signer.getAlgorithmIdentifier().getEncoded(ASN1Encoding.DER);
        byte[] signature = new DERBitString(signer.getSignature()).getEncoded(ASN1Encoding.DER);
        long tbsTotal = headerLength(tbsContent) + tbsContent;
        long outerContent = tbsTotal + signatureAlgorithm.length + signature.length;
        long total = headerLength(outerContent) + outerContent;
        if (total > Integer.MAX_VALUE - 16) {
            throw new IOException("CRL too large to hold in one array: " + total + " bytes");
        }
        ArrayOutput out = new ArrayOutput((int) total);
        writeHeader(out, SEQUENCE, outerContent);
        writeTbs(out, tbsContent, headBytes, extensions);
        out.write(signatureAlgorithm);
        out.write(signature);
        return out.array();
    }

    private void writeTbs(OutputStream out, long tbsContent, byte[] head, byte[] extensions) throws IOException {
        writeHeader(out, SEQUENCE, tbsContent);
        out.write(head);
        if (count > 0) {
            try (InputStream in = new BufferedInputStream(Files.newInputStream(entriesFile), 1 << 16)) {
                in.transferTo(out);
            }
        }
        out.write(extensions);
    }

    /**
     * The CRL extensions RFC 5280 5.2.1 and 5.2.3 require in every CRL, both non-critical; and,
     * only when asked for, the issuingDistributionPoint (5.2.5: "this extension is critical").
     */
    private static ASN1Encodable crlExtensions(X509Certificate issuer, BigInteger crlNumber,
            java.util.List<java.net.URI> distributionPoint) throws IOException {
        java.util.List<Extension> list = new java.util.ArrayList<>(3);
        list.add(new Extension(Extension.authorityKeyIdentifier, false,
                new DEROctetString(new AuthorityKeyIdentifier(KeyIds.subjectKeyId(issuer)))));
        list.add(new Extension(Extension.cRLNumber, false, new DEROctetString(new CRLNumber(crlNumber))));
        if (!distributionPoint.isEmpty()) {
            org.bouncycastle.asn1.x509.GeneralName[] names = distributionPoint.stream()
                    .map(u -> new org.bouncycastle.asn1.x509.GeneralName(
                            org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, u.toString()))
                    .toArray(org.bouncycastle.asn1.x509.GeneralName[]::new);
            list.add(new Extension(Extension.issuingDistributionPoint, true, new DEROctetString(
                    new org.bouncycastle.asn1.x509.IssuingDistributionPoint(
                            new org.bouncycastle.asn1.x509.DistributionPointName(
                                    new org.bouncycastle.asn1.x509.GeneralNames(names)),
                            true, false, null, false, false))));
        }
        return new Extensions(list.toArray(Extension[]::new));
    }

    /** {@link #time} as DER, by hand for UTCTime (the common case): YYMMDDHHMMSSZ. */
    static byte[] encodeTime(Instant instant) throws IOException {
        java.time.LocalDateTime t = java.time.LocalDateTime.ofEpochSecond(instant.getEpochSecond(), 0,
                java.time.ZoneOffset.UTC);
        if (t.getYear() < 1950 || t.getYear() > 2049) {
            return time(instant).toASN1Primitive().getEncoded(ASN1Encoding.DER);
        }
        byte[] b = new byte[15];
        b[0] = 0x17;
        b[1] = 13;
        two(b, 2, t.getYear() % 100);
        two(b, 4, t.getMonthValue());
        two(b, 6, t.getDayOfMonth());
        two(b, 8, t.getHour());
        two(b, 10, t.getMinute());
        two(b, 12, t.getSecond());
        b[14] = 'Z';
        return b;
    }

    private static void two(byte[] b, int at, int value) {
        b[at] = (byte) ('0' + value / 10);
        b[at + 1] = (byte) ('0' + value % 10);
    }

    /** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 5.1.2.4), whole seconds. */
    static Time time(Instant instant) {
        return new Time(Date.from(instant.truncatedTo(ChronoUnit.SECONDS)));
    }

    static int headerLength(long contentLength) {
        if (contentLength < 0x80) {
            return 2;
        }
        int n = 0;
        for (long l = contentLength; l > 0; l >>= 8) {
            n++;
        }
        return 2 + n;
    }

    static void writeHeader(OutputStream out, int tag, long length) throws IOException {
        out.write(tag);
        if (length < 0x80) {
            out.write((int) length);
            return;
        }
        int n = headerLength(length) - 2;
        out.write(0x80 | n);
        for (int i = n - 1; i >= 0; i--) {
            out.write((int) (length >>> (8 * i)) & 0xff);
        }
    }

    @Override
    public void close() throws IOException {
        entries.close();
        Files.deleteIfExists(entriesFile);
    }

    /** An OutputStream over an array of the exact final size: no growth, no copy. */
    private static final class ArrayOutput extends OutputStream {
        private final byte[] buf;
        private int pos;

        ArrayOutput(int size) {
            buf = new byte[size];
        }

        @Override
        public void write(int b) {
            buf[pos++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.arraycopy(b, off, buf, pos, len);
            pos += len;
        }

        byte[] array() {
            if (pos != buf.length) {
                throw new IllegalStateException("CRL encoding wrote " + pos + " of " + buf.length + " bytes");
            }
            return buf;
        }
    }
}
